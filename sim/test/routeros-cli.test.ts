import { RouterOSAPI } from 'node-routeros';
import { describe, expect, it } from 'vitest';
import { cleanEnv, eventually, runRelais, startRelais } from '../../tests/support/relais-process.js';

// `relais sim routeros` as a real process, reached with the real node-routeros client.

describe('relais sim routeros', () => {
  it('serves seeded sessions with the given login and version until SIGTERM', async () => {
    const sim = startRelais(['sim', 'routeros', '--port', '0', '--sessions', '25', '--version', '6.49.10', '--user', 'api', '--password', 'demo-pass'], cleanEnv({ NODE_ENV: 'production' }));
    try {
      const port = await eventually(async () => sim.output.stdout.match(/listening on 127\.0\.0\.1:(\d+)/)?.[1], 30_000, `simulator port (stderr: ${sim.output.stderr})`);
      expect(sim.output.stdout).toContain('version: 6.49.10 (stable)');
      const api = new RouterOSAPI({ host: '127.0.0.1', port: Number(port), user: 'api', password: 'demo-pass', timeout: 10 });
      api.on('error', () => undefined);
      await api.connect();
      try {
        expect(await api.write('/ip/hotspot/active/print', ['=.proplist=user'])).toHaveLength(25);
      } finally {
        await api.close();
      }
    } finally {
      expect(await sim.stop('SIGTERM')).toBe(0);
    }
  });

  it('explains bad flags', async () => {
    const run = await runRelais(['sim', 'routeros', '--port', '0', '--version', 'latest'], cleanEnv());
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--version must look like 7.18.2 or 6.49.10');
  });
});
