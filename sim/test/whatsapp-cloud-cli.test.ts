import { describe, expect, it } from 'vitest';
import { cleanEnv, eventually, runRelais, startRelais } from '../../tests/support/relais-process.js';

// `relais sim whatsapp-cloud` as a real process, reached with fetch as our adapter would.

describe('relais sim whatsapp-cloud', () => {
  it('accepts messages for the printed number and token until SIGTERM', async () => {
    const sim = startRelais(['sim', 'whatsapp-cloud', '--port', '0', '--phone-number-id', '123456789', '--access-token', 'EAAcli', '--window-rule', 'off'], cleanEnv({ NODE_ENV: 'production' }));
    try {
      const url = await eventually(async () => sim.output.stdout.match(/listening on (http:\/\/127\.0\.0\.1:\d+)/)?.[1], 30_000, `simulator URL (stderr: ${sim.output.stderr})`);
      const response = await fetch(`${url}/v21.0/123456789/messages`, {
        method: 'POST',
        headers: { authorization: 'Bearer EAAcli', 'content-type': 'application/json' },
        body: JSON.stringify({ messaging_product: 'whatsapp', to: '237670000001', type: 'text', text: { body: 'Bonjour' } }),
      });
      expect(response.status).toBe(200);
      expect(await response.json()).toMatchObject({ contacts: [{ wa_id: '237670000001' }] });
    } finally {
      expect(await sim.stop('SIGTERM')).toBe(0);
    }
  });

  it('explains bad flags', async () => {
    const run = await runRelais(['sim', 'whatsapp-cloud', '--port', '0', '--window-rule', 'sometimes'], cleanEnv());
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--window-rule');
  });
});
