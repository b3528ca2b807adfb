import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCliEnvironment, type CliEnvironment } from '../../tests/support/cli-environment.js';
import { runRelais } from '../../tests/support/relais-process.js';
import { primaryTestDriver } from '../../tests/support/test-database.js';

/** Each `relais` process opens the database (PGlite takes seconds). */
const PROCESS_TESTS_TIMEOUT_MS = 180_000;

describe(`relais tickets:check-sla on ${primaryTestDriver()}`, () => {
  let cli: CliEnvironment | undefined;
  const relais = (...args: string[]) => runRelais(args, cli!.env, 120_000);

  beforeAll(async () => {
    cli = await createCliEnvironment('sla-cli');
  });
  afterAll(async () => {
    await cli?.cleanup();
  });

  it(
    'runs the SLA check now, for every tenant or one, and reports what it recorded',
    async () => {
      expect((await relais('tenant:create', '--name', 'Helpdesk Bonanjo', '--email', 'bonanjo-sla@example.cm', '--slug', 'bonanjo')).code).toBe(0);

      const all = await relais('tickets:check-sla');
      expect(all.code, all.stderr).toBe(0);
      expect(all.stdout).toMatch(/^Checked 1 tenant\(s\) at .*: 0 warning\(s\) and 0 breach\(es\) recorded on 0 ticket\(s\)\./);

      const one = await relais('tickets:check-sla', '--tenant', 'bonanjo', '--json');
      expect(one.code, one.stderr).toBe(0);
      expect(JSON.parse(one.stdout)).toMatchObject({ tenants: 1, tickets: 0, warnings: 0, breaches: 0, failed: 0 });

      const unknown = await relais('tickets:check-sla', '--tenant', 'nobody');
      expect(unknown.code).toBe(1);
      expect(unknown.stderr).toMatch(/no tenant with slug "nobody"/);
    },
    PROCESS_TESTS_TIMEOUT_MS,
  );
});
