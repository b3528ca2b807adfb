import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { cleanEnv, eventually, runRelais, startRelais } from '../../tests/support/relais-process.js';

// `relais sim africastalking` as a real process: an SMS send with fetch and a USSD dial through /_sim/.

describe('relais sim africastalking', () => {
  it('accepts SMS with the printed key and drives a USSD session against our callback until SIGTERM', async () => {
    const ussd = createServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'text/plain' });
      response.end('END Bienvenue');
    });
    await new Promise<void>((resolve) => ussd.listen(0, '127.0.0.1', resolve));
    const callbackUrl = `http://127.0.0.1:${(ussd.address() as AddressInfo).port}/webhooks/ussd/ch1`;
    const sim = startRelais(['sim', 'africastalking', '--port', '0', '--username', 'demo', '--api-key', 'cli-key', '--ussd', `*384*1#=${callbackUrl}`], cleanEnv({ NODE_ENV: 'production' }));
    try {
      const smsUrl = await eventually(async () => sim.output.stdout.match(/SMS: POST (http:\/\/127\.0\.0\.1:\d+\/version1\/messaging)/)?.[1], 30_000, `simulator URL (stderr: ${sim.output.stderr})`);
      const sent = await fetch(smsUrl, {
        method: 'POST',
        headers: { apiKey: 'cli-key', accept: 'application/json', 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ username: 'demo', to: '+237670000001', message: 'Bonjour' }).toString(),
      });
      expect(sent.status).toBe(201);

      const dial = await fetch(smsUrl.replace('/version1/messaging', '/_sim/ussd/dial'), { method: 'POST', body: JSON.stringify({ serviceCode: '*384*1#', phoneNumber: '+237670000001' }) });
      expect(await dial.json()).toMatchObject({ screen: { kind: 'END', text: 'Bienvenue', problems: [] } });
    } finally {
      expect(await sim.stop('SIGTERM')).toBe(0);
      await new Promise<void>((resolve) => ussd.close(() => resolve()));
    }
  });

  it('explains bad flags', async () => {
    const run = await runRelais(['sim', 'africastalking', '--port', '0', '--ussd', 'nope'], cleanEnv());
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--ussd must be SERVICE_CODE=URL');
  });
});
