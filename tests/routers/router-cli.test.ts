import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRouterOsSimulator, type RouterOsSimulator } from '@relais/sim';
import { runRelais } from '../support/relais-process.js';
import { primaryTestDriver } from '../support/test-database.js';
import { createCliEnvironment, type CliEnvironment } from '../support/cli-environment.js';

/** Several `relais` processes, each opening the database (PGlite takes seconds). */
const PROCESS_TESTS_TIMEOUT_MS = 180_000;
const ROUTER_PASSWORD = 'cli-Router-secret';

describe(`relais router:* and mikrotik:sync-all on ${primaryTestDriver()}, against the RouterOS simulator`, () => {
  let env: NodeJS.ProcessEnv;
  let cli: CliEnvironment | undefined;
  let sim: RouterOsSimulator;
  const relais = async (...args: string[]) => runRelais(args, env, 120_000);

  beforeAll(async () => {
    cli = await createCliEnvironment('router-cli');
    ({ env } = cli);
    sim = await startRouterOsSimulator({ username: 'api', password: ROUTER_PASSWORD, sessions: 3, identity: 'Akwa-GW', hotspotServers: [{ name: 'hotspot1', dnsName: 'wifi.akwa.cm' }] });
  });
  afterAll(async () => {
    await sim?.close();
    await cli?.cleanup();
  });

  it(
    'adds a router, tests it, syncs it, and says what is wrong in French or English',
    async () => {
      expect((await relais('tenant:create', '--name', 'Hotspot Akwa', '--email', 'akwa-cli@example.cm', '--slug', 'akwa', '--locale', 'en')).code).toBe(0);

      const help = await relais('router:add', '--help');
      expect(help.code).toBe(0);
      expect(help.stdout).toMatch(/^usage: relais router:add --tenant SLUG/);

      const added = await relais('router:add', '--tenant', 'akwa', '--name', 'akwa-gw', '--host', sim.host, '--port', String(sim.port), '--user', 'api', '--password', ROUTER_PASSWORD);
      expect(added.code, added.stderr).toBe(0);
      expect(added.stdout).toMatch(/Router "akwa-gw" added/);
      expect(added.stdout).toMatch(/Connected: Akwa-GW, RouterOS 7\.18/);
      expect(added.stdout).toMatch(/Hotspot servers: hotspot1 \(wifi\.akwa\.cm\)/);
      expect(added.stdout + added.stderr).not.toContain(ROUTER_PASSWORD);

      const synced = await relais('mikrotik:sync-all', '--tenant', 'akwa');
      expect(synced.code, synced.stderr).toBe(0);
      expect(synced.stdout).toMatch(/akwa-gw +succeeded +3 +0/);

      const wrong = await relais('router:add', '--tenant', 'akwa', '--name', 'typo', '--host', sim.host, '--port', String(sim.port), '--user', 'api', '--password', 'wrong');
      expect(wrong.code, wrong.stderr).toBe(0); // stored: the reseller fixes the password next
      expect(wrong.stderr).toMatch(/Connection failed \(ROUTER_AUTH_FAILED\): The router refuses the API user name or password/);
      const testedFr = await relais('router:test', '--tenant', 'akwa', '--router', 'typo', '--locale', 'fr');
      expect(testedFr.code).toBe(1);
      expect(testedFr.stderr).toMatch(/Échec de la connexion \(ROUTER_AUTH_FAILED\) : Le routeur refuse/);
      expect(testedFr.stderr).toMatch(/mot de passe/);

      const failedSync = await relais('mikrotik:sync-all', '--tenant', 'akwa');
      expect(failedSync.code).toBe(1);
      expect(failedSync.stdout).toMatch(/typo +failed .*ROUTER_AUTH_FAILED/);
      expect(failedSync.stderr).toMatch(/1 of 2 router\(s\) failed to sync/);

      const bad = await relais('router:add', '--tenant', 'akwa', '--name', 'x', '--host', 'not a host', '--user', 'api', '--password', 'p', '--no-test');
      expect(bad.code).toBe(1);
      expect(bad.stderr).toMatch(/host: host must be a host name or an IP address/);
      const unknown = await relais('router:test', '--tenant', 'nobody', '--router', 'x');
      expect(unknown.code).toBe(1);
      expect(unknown.stderr).toMatch(/no tenant with slug "nobody"/);
    },
    PROCESS_TESTS_TIMEOUT_MS,
  );
});
