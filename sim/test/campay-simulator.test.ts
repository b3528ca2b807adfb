import { createHmac } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startCampaySimulator, type CampaySimulator, type CampaySimulatorOptions } from '../src/index.js';

interface ReceivedCallback {
  method: string;
  params: Record<string, string>;
}

/** A small HTTP server standing in for our webhook endpoint. */
async function startReceiver(): Promise<{ url: string; received: ReceivedCallback[]; close(): Promise<void> }> {
  const received: ReceivedCallback[] = [];
  const server: Server = createServer((request, response) => {
    let text = '';
    request.on('data', (chunk) => (text += chunk));
    request.on('end', () => {
      const url = new URL(request.url ?? '/', 'http://receiver');
      const params = request.method === 'GET' ? Object.fromEntries(url.searchParams) : (JSON.parse(text) as Record<string, string>);
      received.push({ method: request.method ?? '', params });
      response.end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/webhooks/campay`,
    received,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** Checks an HS256 JWT independently of the simulator's signer; returns its claims. */
function verifiedClaims(jwt: string, key: string): Record<string, unknown> {
  const [header, payload, signature] = jwt.split('.');
  expect(JSON.parse(Buffer.from(header!, 'base64url').toString())).toEqual({ alg: 'HS256', typ: 'JWT' });
  expect(signature).toBe(createHmac('sha256', key).update(`${header}.${payload}`).digest('base64url'));
  return JSON.parse(Buffer.from(payload!, 'base64url').toString()) as Record<string, unknown>;
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

async function simulator(options: CampaySimulatorOptions = {}): Promise<CampaySimulator> {
  const sim = await startCampaySimulator(options);
  cleanups.push(() => sim.close());
  return sim;
}

async function receiver() {
  const started = await startReceiver();
  cleanups.push(() => started.close());
  return started;
}

async function call(sim: CampaySimulator, method: 'GET' | 'POST', path: string, options: { body?: unknown; token?: string } = {}) {
  const headers: Record<string, string> = {};
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  if (options.token) headers.authorization = `Token ${options.token}`;
  const url = path.startsWith('/_sim/') ? sim.url.replace(/\/api$/, path) : `${sim.url}${path}`;
  const response = await fetch(url, { method, headers, body: options.body === undefined ? undefined : JSON.stringify(options.body) });
  const text = await response.text();
  const json = response.headers.get('content-type')?.startsWith('application/json') ? (JSON.parse(text) as Record<string, any>) : undefined;
  return { status: response.status, body: json };
}

async function login(sim: CampaySimulator): Promise<string> {
  const answer = await call(sim, 'POST', '/token/', { body: { username: sim.credentials.username, password: sim.credentials.password } });
  expect(answer.status).toBe(200);
  return answer.body!.token as string;
}

const collectBody = (overrides: Record<string, unknown> = {}) => ({
  amount: '500',
  currency: 'XAF',
  from: '237670000000',
  description: 'WiFi 1 jour',
  external_reference: `ext-${Math.random().toString(36).slice(2)}`,
  ...overrides,
});

describe('CamPay simulator: token', () => {
  it('issues tokens for the configured credentials and refuses others like CamPay', async () => {
    const sim = await simulator({ username: 'app-user', password: 'app-pass' });
    const ok = await call(sim, 'POST', '/token/', { body: { username: 'app-user', password: 'app-pass' } });
    expect(ok.status).toBe(200);
    expect(ok.body).toEqual({ token: expect.stringMatching(/^[0-9a-f]{40}$/), expires_in: 3600 });

    const wrong = await call(sim, 'POST', '/token/', { body: { username: 'app-user', password: 'nope' } });
    expect(wrong).toEqual({ status: 400, body: { non_field_errors: ['Unable to log in with provided credentials.'] } });
    const missing = await call(sim, 'POST', '/token/', { body: {} });
    expect(missing.status).toBe(400);
    expect(missing.body!.non_field_errors).toHaveLength(1);
  });

  it('requires a valid token on every API call; a permanent token needs no login', async () => {
    const sim = await simulator({ permanentToken: 'permanent-key' });
    expect((await call(sim, 'GET', '/balance/')).status).toBe(401);
    expect((await call(sim, 'GET', '/balance/', { token: 'made-up' })).status).toBe(401);
    expect((await call(sim, 'GET', '/balance/', { token: 'permanent-key' })).status).toBe(200);
    expect((await call(sim, 'GET', '/balance/', { token: await login(sim) })).status).toBe(200);
  });

  it('expires tokens after the configured lifetime, and can revoke them early', async () => {
    const sim = await simulator({ tokenExpiresInSeconds: 0.3 });
    const answer = await call(sim, 'POST', '/token/', { body: { username: sim.credentials.username, password: sim.credentials.password } });
    expect(answer.body!.expires_in).toBe(0.3);
    const token = answer.body!.token as string;
    expect((await call(sim, 'GET', '/balance/', { token })).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect((await call(sim, 'GET', '/balance/', { token })).status).toBe(401);

    const fresh = await login(sim);
    expect((await call(sim, 'POST', '/_sim/tokens/revoke')).status).toBe(200);
    expect((await call(sim, 'GET', '/balance/', { token: fresh })).status).toBe(401);
  });
});

describe('CamPay simulator: collect and status', () => {
  it('answers a collect with reference, USSD code and operator, then reports the transaction PENDING', async () => {
    const sim = await simulator();
    const token = await login(sim);
    const body = collectBody();
    const mtn = await call(sim, 'POST', '/collect/', { token, body });
    expect(mtn).toEqual({ status: 200, body: { reference: expect.stringMatching(/^[0-9a-f-]{36}$/), ussd_code: '*126#', operator: 'MTN' } });
    const orange = await call(sim, 'POST', '/collect/', { token, body: collectBody({ from: '237699000000' }) });
    expect(orange.body).toMatchObject({ ussd_code: '#150*50#', operator: 'ORANGE' });

    const status = await call(sim, 'GET', `/transaction/${mtn.body!.reference}/`, { token });
    expect(status.status).toBe(200);
    expect(status.body).toMatchObject({
      reference: mtn.body!.reference,
      status: 'PENDING',
      amount: 500,
      currency: 'XAF',
      operator: 'MTN',
      code: expect.stringMatching(/^CP/),
      operator_reference: null,
      external_reference: body.external_reference,
    });
    expect((await call(sim, 'GET', '/transaction/no-such-reference/', { token })).status).toBe(404);
  });

  it('is idempotent on external_reference', async () => {
    const sim = await simulator();
    const token = await login(sim);
    const body = collectBody();
    const first = await call(sim, 'POST', '/collect/', { token, body });
    const second = await call(sim, 'POST', '/collect/', { token, body });
    expect(second.body!.reference).toBe(first.body!.reference);
    expect(sim.transactions()).toHaveLength(1);
  });

  it.each([
    ['+237670000000', 'ER101'],
    ['670000000', 'ER101'],
    ['2376700000', 'ER101'],
    ['237660000000', 'ER102'],
    ['237620000000', 'ER102'],
  ])('refuses from=%s with %s', async (from, code) => {
    const sim = await simulator();
    const answer = await call(sim, 'POST', '/collect/', { token: await login(sim), body: collectBody({ from }) });
    expect(answer.status).toBe(400);
    expect(answer.body).toEqual({ message: expect.any(String), error_code: code });
    expect(sim.transactions()).toHaveLength(0);
  });

  it.each(['500.5', 12.5, '0', -5, 'abc'])('refuses amount %j with ER201', async (amount) => {
    const sim = await simulator();
    const answer = await call(sim, 'POST', '/collect/', { token: await login(sim), body: collectBody({ amount }) });
    expect(answer.status).toBe(400);
    expect(answer.body!.error_code).toBe('ER201');
  });

  it('can put the ER code inside the message instead, and send amounts as strings', async () => {
    const sim = await simulator({ errorCodeIn: 'message', amountsAsStrings: true });
    const token = await login(sim);
    const refused = await call(sim, 'POST', '/collect/', { token, body: collectBody({ from: '237660000000' }) });
    expect(refused.body).toEqual({ message: expect.stringMatching(/^ER102: /) });
    const { body } = await call(sim, 'POST', '/collect/', { token, body: collectBody({ amount: 700 }) });
    expect((await call(sim, 'GET', `/transaction/${body!.reference}/`, { token })).body!.amount).toBe('700');
  });
});

describe('CamPay simulator: resolution', () => {
  it('approves and declines through the API handle and the control endpoints', async () => {
    const sim = await simulator();
    const token = await login(sim);
    const a = (await call(sim, 'POST', '/collect/', { token, body: collectBody() })).body!.reference as string;
    const b = (await call(sim, 'POST', '/collect/', { token, body: collectBody() })).body!.reference as string;

    expect(await sim.approve(a)).toMatchObject({ status: 'SUCCESSFUL', operator_reference: expect.stringMatching(/^MP/) });
    const declined = await call(sim, 'POST', `/_sim/transactions/${b}/decline`);
    expect(declined.body).toMatchObject({ reference: b, status: 'FAILED' });
    expect((await call(sim, 'GET', `/transaction/${a}/`, { token })).body!.status).toBe('SUCCESSFUL');
    expect((await call(sim, 'GET', `/transaction/${b}/`, { token })).body!.status).toBe('FAILED');

    expect((await call(sim, 'POST', `/_sim/transactions/${a}/decline`)).status).toBe(409);
    await expect(sim.approve('unknown')).rejects.toThrow(/404/);
    const listed = await call(sim, 'GET', '/_sim/transactions');
    expect((listed.body as unknown as Array<{ status: string }>).map((t) => t.status).sort()).toEqual(['FAILED', 'SUCCESSFUL']);
  });

  it('resolves by rule after a delay: a fixed outcome or a function of the transaction', async () => {
    const sim = await simulator({
      autoResolve: { afterMs: 30, outcome: (transaction) => (transaction.amount >= 1000 ? 'FAILED' : 'SUCCESSFUL') },
    });
    const token = await login(sim);
    const small = (await call(sim, 'POST', '/collect/', { token, body: collectBody({ amount: '500' }) })).body!.reference;
    const large = (await call(sim, 'POST', '/collect/', { token, body: collectBody({ amount: '1500' }) })).body!.reference;
    await expect.poll(() => sim.transactions().map((t) => t.status).includes('PENDING'), { timeout: 2000 }).toBe(false);
    expect((await call(sim, 'GET', `/transaction/${small}/`, { token })).body!.status).toBe('SUCCESSFUL');
    expect((await call(sim, 'GET', `/transaction/${large}/`, { token })).body!.status).toBe('FAILED');
  });

  it('credits successful collections to the balance and pays withdrawals out of it', async () => {
    const sim = await simulator({ balance: { mtn: 1000, orange: 200 } });
    const token = await login(sim);
    expect((await call(sim, 'GET', '/balance/', { token })).body).toEqual({ total_balance: 1200, mtn_balance: 1000, orange_balance: 200, currency: 'XAF' });

    const refused = await call(sim, 'POST', '/withdraw/', { token, body: { amount: '300', to: '237699000000', description: 'payout', external_reference: 'w-1' } });
    expect(refused).toEqual({ status: 400, body: { message: expect.any(String), error_code: 'ER301' } });

    const payout = await call(sim, 'POST', '/withdraw/', { token, body: { amount: '800', to: '237670000000', description: 'payout', external_reference: 'w-2' } });
    expect(payout.body).toEqual({ reference: expect.any(String), status: 'PENDING' });
    expect((await call(sim, 'GET', '/balance/', { token })).body!.mtn_balance).toBe(200);
    await sim.decline(payout.body!.reference as string); // a failed payout gives the money back
    expect((await call(sim, 'GET', '/balance/', { token })).body!.mtn_balance).toBe(1000);

    const collected = await call(sim, 'POST', '/collect/', { token, body: collectBody({ amount: '250', from: '237699000000' }) });
    await sim.approve(collected.body!.reference as string);
    expect((await call(sim, 'GET', '/balance/', { token })).body).toMatchObject({ total_balance: 1450, orange_balance: 450 });
  });
});

describe('CamPay simulator: callbacks', () => {
  async function collectAndResolve(sim: CampaySimulator, token: string, outcome: 'approve' | 'decline' = 'approve') {
    const body = collectBody();
    const reference = (await call(sim, 'POST', '/collect/', { token, body })).body!.reference as string;
    await sim[outcome](reference);
    return { reference, externalReference: body.external_reference };
  }

  it.each(['GET', 'POST'] as const)('sends a signed callback by %s when a transaction resolves', async (callbackMethod) => {
    const hook = await receiver();
    const sim = await simulator({ callbackUrl: hook.url, callbackMethod, webhookKey: 'whk-test' });
    const { reference, externalReference } = await collectAndResolve(sim, await login(sim));
    await sim.settled();

    expect(hook.received).toHaveLength(1);
    const [callback] = hook.received;
    expect(callback!.method).toBe(callbackMethod);
    expect(callback!.params).toMatchObject({
      status: 'SUCCESSFUL',
      reference,
      amount: '500',
      currency: 'XAF',
      operator: 'MTN',
      code: expect.stringMatching(/^CP/),
      operator_reference: expect.stringMatching(/^MP/),
      external_reference: externalReference,
    });
    const claims = verifiedClaims(callback!.params.signature!, 'whk-test');
    expect(claims).toMatchObject({ reference, external_reference: externalReference, status: 'SUCCESSFUL', amount: '500', currency: 'XAF' });
    expect(claims.exp).toBe((claims.iat as number) + 600);
    expect(sim.callbacks()).toEqual([expect.objectContaining({ reference, outcome: 'sent', status: 200 })]);
  });

  it('drops callbacks when told to (by option)', async () => {
    const hook = await receiver();
    const sim = await simulator({ callbackUrl: hook.url, faults: { drop: true } });
    const { reference } = await collectAndResolve(sim, await login(sim));
    await sim.settled();
    expect(hook.received).toHaveLength(0);
    expect(sim.callbacks()).toEqual([expect.objectContaining({ reference, outcome: 'dropped' })]);
  });

  it('delays callbacks (set through the control endpoint)', async () => {
    const hook = await receiver();
    const sim = await simulator({ callbackUrl: hook.url });
    const set = await call(sim, 'POST', '/_sim/faults', { body: { delayMs: 150 } });
    expect(set.body).toMatchObject({ delayMs: 150 });
    const startedAt = Date.now();
    await collectAndResolve(sim, await login(sim));
    expect(hook.received).toHaveLength(0);
    await sim.settled();
    expect(hook.received).toHaveLength(1);
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(145);
  });

  it('duplicates callbacks n times', async () => {
    const hook = await receiver();
    const sim = await simulator({ callbackUrl: hook.url, faults: { duplicate: 3 } });
    const { reference } = await collectAndResolve(sim, await login(sim), 'decline');
    await sim.settled();
    expect(hook.received).toHaveLength(3);
    expect(new Set(hook.received.map((r) => JSON.stringify(r.params))).size).toBe(1);
    expect(hook.received[0]!.params).toMatchObject({ reference, status: 'FAILED', operator_reference: '' });
  });

  it('holds callbacks and releases them newest first on flush', async () => {
    const hook = await receiver();
    const sim = await simulator({ callbackUrl: hook.url });
    sim.setFaults({ reorder: true });
    const token = await login(sim);
    const references = [];
    for (let i = 0; i < 3; i++) references.push((await collectAndResolve(sim, token)).reference);
    await sim.settled();
    expect(hook.received).toHaveLength(0);

    const flushed = await call(sim, 'POST', '/_sim/callbacks/flush');
    expect(flushed.body).toEqual({ released: 3 });
    await sim.settled();
    expect(hook.received.map((r) => r.params.reference)).toEqual([...references].reverse());
  });

  it('refuses malformed fault settings', async () => {
    const sim = await simulator();
    expect((await call(sim, 'POST', '/_sim/faults', { body: { duplicate: 0 } })).status).toBe(400);
    expect((await call(sim, 'POST', '/_sim/faults', { body: { explode: true } })).status).toBe(400);
  });
});

describe('CamPay simulator: API faults and inspection', () => {
  it('injects failures on the next matching requests, then behaves again', async () => {
    const sim = await simulator();
    const token = await login(sim);
    sim.setFaults({ failNext: { status: 503, body: '<html>maintenance</html>', times: 2, path: '/api/balance/' } });
    expect((await call(sim, 'POST', '/collect/', { token, body: collectBody() })).status).toBe(200); // other path: untouched
    const first = await fetch(`${sim.url}/balance/`, { headers: { authorization: `Token ${token}` } });
    expect(first.status).toBe(503);
    expect(await first.text()).toBe('<html>maintenance</html>');
    expect((await call(sim, 'GET', '/balance/', { token })).status).toBe(503);
    expect((await call(sim, 'GET', '/balance/', { token })).status).toBe(200);
  });

  it('adds latency to API answers', async () => {
    const sim = await simulator({ faults: { latencyMs: 120 } });
    const startedAt = Date.now();
    await login(sim);
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(115);
    sim.setFaults({ latencyMs: 0 });
  });

  it('logs API requests (not control requests) for tests to count', async () => {
    const sim = await simulator();
    const token = await login(sim);
    await call(sim, 'GET', '/balance/', { token });
    await call(sim, 'GET', '/_sim/transactions');
    const logged = await call(sim, 'GET', '/_sim/requests');
    const expected = [
      { method: 'POST', path: '/api/token/', status: 200 },
      { method: 'GET', path: '/api/balance/', status: 200 },
    ];
    expect(logged.body).toEqual(expected.map((entry) => expect.objectContaining(entry)));
    expect(sim.requests()).toEqual(expected.map((entry) => expect.objectContaining(entry)));
  });
});
