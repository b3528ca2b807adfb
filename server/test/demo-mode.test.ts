import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import jsQR from 'jsqr';
import { PNG } from 'pngjs';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';
import { cleanEnv, eventually, freePort, runRelais, startRelais } from '../../tests/support/relais-process.js';

interface WebchatMessage {
  id: string;
  from: 'customer' | 'bot';
  text: string;
  choices?: { id: string; label: string }[];
  image?: { url: string; alt: string };
}

/** The first 200 answer of /health, once the process is up. */
function healthOf(port: number, output: { stderr: string }): Promise<Record<string, any>> {
  return eventually(async () => {
    const response = await fetch(`http://127.0.0.1:${port}/health`);
    return response.status === 200 ? ((await response.json()) as Record<string, any>) : undefined;
  }, 90_000, `GET /health (stderr: ${output.stderr})`);
}

function qrContent(png: Buffer): string | undefined {
  const image = PNG.sync.read(png);
  return jsQR(new Uint8ClampedArray(image.data.buffer, image.data.byteOffset, image.data.byteLength), image.width, image.height)?.data;
}

/** A visitor of /chat/demo, speaking to the web chat API of a running server. */
function visitor(port: number, name: string) {
  const base = `http://127.0.0.1:${port}/api/webchat/demo/messages`;
  const contactId = `demo-visitor-${name}-${randomBytes(8).toString('hex')}`;
  let sent = 0;
  let cursor = 0;
  return {
    contactId,
    async say(text: string): Promise<WebchatMessage[]> {
      sent += 1;
      const response = await fetch(base, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ contactId, text, messageId: `${contactId}-${sent}` }) });
      expect(response.status).toBe(200);
      return ((await response.json()) as { replies: WebchatMessage[] }).replies;
    },
    /** Polls the chat until a bot message passes `test` (payment and delivery run as jobs). */
    waitFor(what: string, test: (message: WebchatMessage) => boolean): Promise<WebchatMessage> {
      return eventually(async () => {
        const response = await fetch(`${base}?contactId=${contactId}&after=${cursor}`);
        const page = (await response.json()) as { messages: WebchatMessage[]; cursor: number };
        cursor = page.cursor;
        return page.messages.find((message) => message.from === 'bot' && test(message));
      }, 45_000, what);
    },
  };
}

describe('demo mode configuration', () => {
  it('is on by default without CamPay outside production, and off with CamPay, in production or with jobs outside the server', () => {
    expect(loadConfig({}).demo).toEqual({ autoApproveMs: 5_000 });
    expect(loadConfig({ DEMO_AUTO_APPROVE_MS: '0' }).demo).toEqual({ autoApproveMs: 0 });
    expect(loadConfig({ DEMO_MODE: 'off' }).demo).toBeUndefined();
    expect(loadConfig({ NODE_ENV: 'production', APP_KEY: randomBytes(32).toString('base64') }).demo).toBeUndefined();
    expect(loadConfig({ CAMPAY_TOKEN: 'token', CAMPAY_WEBHOOK_KEY: 'webhook-key' }).demo).toBeUndefined();
    expect(loadConfig({ REDIS_URL: 'redis://cache:6379', JOBS_IN_SERVER: 'false' }).demo).toBeUndefined();
  });

  it.each([
    [{ DEMO_MODE: 'on', NODE_ENV: 'production', APP_KEY: randomBytes(32).toString('base64') }, 'DEMO_MODE=on is refused in production'],
    [{ DEMO_MODE: 'on', CAMPAY_TOKEN: 'token', CAMPAY_WEBHOOK_KEY: 'webhook-key' }, 'DEMO_MODE=on cannot be used with the CAMPAY_* variables'],
    [{ DEMO_MODE: 'on', REDIS_URL: 'redis://cache:6379', JOBS_IN_SERVER: 'false' }, 'DEMO_MODE=on needs JOBS_IN_SERVER=true'],
    [{ DEMO_MODE: 'yes' }, 'DEMO_MODE must be auto, on or off (got "yes")'],
    [{ DEMO_AUTO_APPROVE_MS: 'soon' }, 'DEMO_AUTO_APPROVE_MS must be a whole number of milliseconds'],
  ])('refuses %o with one line naming the variable', (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });
});

describe('relais serve in demo mode, as a process', () => {
  const directory = mkdtempSync(join(tmpdir(), 'relais-demo-'));
  afterAll(() => rmSync(directory, { recursive: true, force: true }));
  const demoEnv = (port: number) =>
    cleanEnv({
      PORT: String(port),
      HOST: '127.0.0.1',
      PGLITE_DATA_DIR: join(directory, 'pglite'),
      APP_KEY_FILE: join(directory, 'app-key'),
      FILES_DIR: join(directory, 'files'),
      // A quick simulated approval keeps the test short; the default leaves a newcomer a few seconds.
      DEMO_AUTO_APPROVE_MS: '300',
    });

  it('sells WiFi at /chat/demo through the simulated CamPay, and a restart duplicates nothing', async () => {
    const port = await freePort();
    const first = startRelais(['serve'], demoEnv(port));
    try {
      expect(await healthOf(port, first.output)).toMatchObject({ status: 'ok', demo: true });
      await eventually(async () => (first.output.stdout.includes('DEMO MODE') ? true : undefined), 10_000, 'the demo mode log line');

      const page = await fetch(`http://127.0.0.1:${port}/chat/demo`);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('Demo mode: simulated payments');

      const chat = visitor(port, 'buyer');
      expect((await chat.say('hello'))[0]!.choices!.map((choice) => choice.label)).toEqual(['Français', 'English']);
      await chat.say('English');
      const packages = await chat.say('Buy WiFi');
      expect(packages[0]!.choices!.map((choice) => choice.label)).toEqual(['1 hour - 100 FCFA', '1 day - 500 FCFA', 'Menu']);
      await chat.say('1 day - 500 FCFA');
      expect((await chat.say('670000009'))[0]!.text).toContain('500 FCFA from +237670000009');

      const voucher = await chat.waitFor('the voucher', (message) => Boolean(message.image));
      const code = /Your WiFi code: (\S+)/.exec(voucher.text)?.[1];
      expect(code).toBeTruthy();
      expect(voucher.text).toContain('valid for 1 day');
      const qr = await fetch(`http://127.0.0.1:${port}${voucher.image!.url}`);
      expect(qr.status).toBe(200);
      expect(qr.headers.get('content-type')).toBe('image/png');
      expect(qrContent(Buffer.from(await qr.arrayBuffer()))).toBe(code);

      // The demo page shows the simulated payment, approved.
      const demoPage = (await (await fetch(`http://127.0.0.1:${port}/api/demo/payments`)).json()) as { payments: unknown[] };
      expect(demoPage.payments).toMatchObject([{ status: 'SUCCESSFUL', amountXaf: 500, phone: '+237670000009' }]);
    } finally {
      expect(await first.stop('SIGTERM')).toBe(0);
    }

    const second = startRelais(['serve'], demoEnv(port));
    try {
      expect(await healthOf(port, second.output)).toMatchObject({ status: 'ok', demo: true });
      const chat = visitor(port, 'after-restart');
      await chat.say('hello');
      await chat.say('English');
      const packages = await chat.say('Buy WiFi');
      expect(packages[0]!.choices!.map((choice) => choice.label)).toEqual(['1 hour - 100 FCFA', '1 day - 500 FCFA', 'Menu']);
    } finally {
      expect(await second.stop('SIGTERM')).toBe(0);
    }

    const tenants = JSON.parse((await runRelais(['tenant:list', '--json'], demoEnv(port))).stdout) as { slug: string; billingMode: string }[];
    expect(tenants.map((tenant) => [tenant.slug, tenant.billingMode])).toEqual([['demo', 'commission']]);
    const listed = await runRelais(['package:list', '--tenant', 'demo', '--json'], demoEnv(port));
    const demoPackages = JSON.parse(listed.stdout) as { name: { en: string }; routers: { name: string }[]; stock: { available: number; sold: number } }[];
    // The one sold is replaced at the restart: stock stays at 20 a package.
    expect(demoPackages.map((pkg) => [pkg.name.en, pkg.routers.map((router) => router.name), pkg.stock.available, pkg.stock.sold])).toEqual([
      ['1 hour', ['Routeur démo'], 20, 0],
      ['1 day', ['Routeur démo'], 20, 1],
    ]);
  }, 150_000);

  it('stays out of production: no demo without CamPay, and DEMO_MODE=on refused with exit 78', async () => {
    const appKey = randomBytes(32).toString('base64');
    const port = await freePort();
    const production = cleanEnv({
      NODE_ENV: 'production',
      APP_KEY: appKey,
      PORT: String(port),
      HOST: '127.0.0.1',
      PGLITE_DATA_DIR: join(directory, 'pglite-production'),
      FILES_DIR: join(directory, 'files-production'),
    });
    const refused = await runRelais(['serve'], { ...production, DEMO_MODE: 'on' });
    expect(refused.code).toBe(78);
    expect(refused.stderr.trim()).toBe('relais: configuration error: DEMO_MODE=on is refused in production: demo mode fakes payments (configure CAMPAY_* instead)');

    const server = startRelais(['serve'], production);
    try {
      expect(await healthOf(port, server.output)).toMatchObject({ status: 'ok', demo: false });
      expect((await fetch(`http://127.0.0.1:${port}/chat/demo`)).status).toBe(404);
      expect((await fetch(`http://127.0.0.1:${port}/api/demo/payments`)).status).toBe(404);
    } finally {
      expect(await server.stop('SIGTERM')).toBe(0);
    }
    expect(server.output.stdout).not.toContain('DEMO MODE');
  }, 120_000);
});
