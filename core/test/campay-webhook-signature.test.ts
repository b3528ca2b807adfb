import { createHmac } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { signHs256Jwt, startCampaySimulator } from '@relais/sim';
import { verifyCampayWebhookSignature } from '../src/payments/campay/campay-webhook-signature.js';

const KEY = 'webhook-key-from-the-campay-dashboard';
const NOW_MS = Date.parse('2025-03-01T12:00:00Z');
const clock = { now: () => new Date(NOW_MS) };
const nowSeconds = NOW_MS / 1000;

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
/** Builds a token with any header, signed (HMAC-SHA256) with `key`, to forge the bad cases. */
function forge(header: Record<string, unknown>, claims: Record<string, unknown>, key = KEY): string {
  const unsigned = `${b64(header)}.${b64(claims)}`;
  return `${unsigned}.${createHmac('sha256', key).update(unsigned).digest('base64url')}`;
}

describe('verifyCampayWebhookSignature', () => {
  it('returns the claims of a valid HS256 token, with or without exp', () => {
    const claims = { reference: 'abc', status: 'SUCCESSFUL', iat: nowSeconds - 5, exp: nowSeconds + 300 };
    expect(verifyCampayWebhookSignature(signHs256Jwt(claims, KEY), KEY, { clock })).toEqual(claims);
    expect(verifyCampayWebhookSignature(forge({ alg: 'HS256' }, { reference: 'abc' }), KEY, { clock })).toEqual({ reference: 'abc' });
  });

  it.each([
    ['alg none, unsigned', `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ reference: 'abc' })}.`],
    ['alg none with a signature', forge({ alg: 'none' }, { reference: 'abc' })],
    ['alg HS512', forge({ alg: 'HS512' }, { reference: 'abc' })],
    ['alg RS256', forge({ alg: 'RS256' }, { reference: 'abc' })],
    ['lower-case alg', forge({ alg: 'hs256' }, { reference: 'abc' })],
    ['no alg', forge({ typ: 'JWT' }, { reference: 'abc' })],
    ['critical extension', forge({ alg: 'HS256', crit: ['b64'] }, { reference: 'abc' })],
    ['wrong key', forge({ alg: 'HS256' }, { reference: 'abc' }, 'another-key')],
    ['tampered claims', (() => {
      const [header, , signature] = forge({ alg: 'HS256' }, { amount: '100' }).split('.');
      return `${header}.${b64({ amount: '100000' })}.${signature}`;
    })()],
    ['expired', forge({ alg: 'HS256' }, { exp: nowSeconds - 3600 })],
    ['exp not a number', forge({ alg: 'HS256' }, { exp: 'tomorrow' })],
    ['not valid yet', forge({ alg: 'HS256' }, { nbf: nowSeconds + 3600 })],
    ['claims not an object', forge({ alg: 'HS256' }, ['a'] as unknown as Record<string, unknown>)],
    ['two parts', 'aaa.bbb'],
    ['four parts', 'a.b.c.d'],
    ['empty', ''],
    ['not base64url', 'a$b.c!d.e+f'],
    ['header not JSON', `${Buffer.from('nope').toString('base64url')}.${b64({})}.c2ln`],
  ])('rejects %s', (_name, token) => {
    expect(verifyCampayWebhookSignature(token, KEY, { clock })).toBe(false);
  });

  it('tolerates 30 s of clock difference on exp and nbf, not more', () => {
    expect(verifyCampayWebhookSignature(forge({ alg: 'HS256' }, { exp: nowSeconds - 20 }), KEY, { clock })).toBeTruthy();
    expect(verifyCampayWebhookSignature(forge({ alg: 'HS256' }, { exp: nowSeconds - 31 }), KEY, { clock })).toBe(false);
    expect(verifyCampayWebhookSignature(forge({ alg: 'HS256' }, { nbf: nowSeconds + 20 }), KEY, { clock })).toBeTruthy();
    expect(verifyCampayWebhookSignature(forge({ alg: 'HS256' }, { exp: nowSeconds - 20 }), KEY, { clock, leewaySeconds: 0 })).toBe(false);
  });

  it('rejects everything when the key is empty (anyone could sign with it)', () => {
    expect(verifyCampayWebhookSignature(forge({ alg: 'HS256' }, { reference: 'abc' }, ''), '', { clock })).toBe(false);
  });

  it('rejects a second spelling of the same signature bytes', () => {
    const token = forge({ alg: 'HS256' }, { reference: 'abc' });
    const signature = token.split('.')[2]!;
    // 32 bytes -> 43 base64url characters: the last one carries 2 unused bits that decoders ignore.
    const last = signature.at(-1)!;
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const sibling = alphabet[alphabet.indexOf(last) ^ 1]!;
    expect(Buffer.from(signature.slice(0, -1) + sibling, 'base64url').equals(Buffer.from(signature, 'base64url'))).toBe(true);
    expect(verifyCampayWebhookSignature(`${token.slice(0, -1)}${sibling}`, KEY, { clock })).toBe(false);
  });

  it('accepts the callbacks the simulator sends over HTTP, and only with the right key', async () => {
    const received: string[] = [];
    const hook = createServer((request, response) => {
      received.push(new URL(request.url ?? '/', 'http://hook').searchParams.get('signature') ?? '');
      response.end();
    });
    await new Promise<void>((resolve) => hook.listen(0, '127.0.0.1', resolve));
    const sim = await startCampaySimulator({ callbackUrl: `http://127.0.0.1:${(hook.address() as AddressInfo).port}/`, callbackMethod: 'GET' });
    try {
      const token = sim.credentials.permanentToken;
      const answer = await fetch(`${sim.url}/collect/`, {
        method: 'POST',
        headers: { authorization: `Token ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ amount: '100', currency: 'XAF', from: '237670000000', description: 'x', external_reference: 'ext-1' }),
      });
      const { reference } = (await answer.json()) as { reference: string };
      await sim.approve(reference);
      await sim.settled();
      expect(received).toHaveLength(1);
      expect(verifyCampayWebhookSignature(received[0]!, sim.webhookKey)).toMatchObject({ reference, external_reference: 'ext-1', status: 'SUCCESSFUL' });
      expect(verifyCampayWebhookSignature(received[0]!, 'some-other-key')).toBe(false);
    } finally {
      await sim.close();
      await new Promise((resolve) => hook.close(resolve));
    }
  });
});
