import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runRelais } from '../support/relais-process.js';
import { primaryTestDriver } from '../support/test-database.js';
import { createCliEnvironment, type CliEnvironment } from '../support/cli-environment.js';

/** Each test starts several `relais` processes, and each opens the database (PGlite takes seconds). */
const PROCESS_TESTS_TIMEOUT_MS = 180_000;

describe(`relais package:* and voucher:* on ${primaryTestDriver()}`, () => {
  let directory: string;
  let env: NodeJS.ProcessEnv;
  let cli: CliEnvironment | undefined;
  const relais = async (...args: string[]) => runRelais(args, env, 120_000);

  beforeAll(async () => {
    cli = await createCliEnvironment('wifi-cli');
    ({ directory, env } = cli);
  });
  afterAll(async () => {
    await cli?.cleanup();
  });

  it(
    'creates a package, generates vouchers and prints them to a PDF',
    async () => {
      const tenant = await relais('tenant:create', '--name', 'Hotspot Bonaberi', '--email', 'bonaberi@example.cm', '--slug', 'bonaberi', '--mode', 'commission');
      expect(tenant.code, tenant.stderr).toBe(0);

      const created = await relais(
        'package:create', '--tenant', 'bonaberi', '--name-fr', '1 jour', '--name-en', '1 day', '--price', '500', '--validity', '1d',
        '--time-limit', '3h', '--data-limit', '1G', '--profile', 'jour', '--rate-limit', '2M/5M', '--low-stock', '5', '--json',
      );
      expect(created.code, created.stderr).toBe(0);
      expect(JSON.parse(created.stdout)).toMatchObject({
        name: { fr: '1 jour', en: '1 day' }, priceXaf: 500, validityMinutes: 1_440, timeLimitSeconds: 10_800, dataLimitBytes: 1_073_741_824,
        mikrotikProfile: 'jour', rateLimit: '2M/5M', lowStockThreshold: 5, generateOnDemand: false, routers: [],
      });

      const generated = await relais('voucher:generate', '--tenant', 'bonaberi', '--package', '1 day', '--count', '40', '--length', '6', '--prefix', 'BB', '--alphabet', 'digits');
      expect(generated.code, generated.stderr).toBe(0);
      expect(generated.stdout).toMatch(/Generated 40 vouchers for "1 jour"/);
      expect(generated.stdout).toMatch(/codes: +BB[2-9]{6} \.\.\. BB[2-9]{6} \(password = code\)/);

      const listed = await relais('package:list', '--tenant', 'bonaberi');
      expect(listed.code, listed.stderr).toBe(0);
      expect(listed.stdout).toMatch(/1 jour +1 day +500 FCFA +1d +- +40 +0 +yes/);

      const out = join(directory, 'sheet.pdf');
      const printed = await relais('voucher:print', '--tenant', 'bonaberi', '--package', '1 jour', '--out', out, '--locale', 'en');
      expect(printed.code, printed.stderr).toBe(0);
      expect(printed.stdout).toContain(`${out}: 40 vouchers on 2 pages`);
      expect(readFileSync(out).subarray(0, 5).toString()).toBe('%PDF-');
      const again = await relais('voucher:print', '--tenant', 'bonaberi', '--package', '1 jour', '--out', out);
      expect(again.code).toBe(1);
      expect(again.stderr).toMatch(/already exists; pass --force/);
    },
    PROCESS_TESTS_TIMEOUT_MS,
  );

  it(
    'explains wrong flags and shows help',
    async () => {
      const badValidity = await relais('package:create', '--tenant', 'bonaberi', '--name-fr', 'x', '--name-en', 'y', '--price', '5', '--validity', 'forever');
      expect(badValidity.code).toBe(2);
      expect(badValidity.stderr).toMatch(/--validity must be a RouterOS duration such as 30m, 3h, 1d or 1w2d/);
      const badPrice = await relais('package:create', '--tenant', 'bonaberi', '--name-fr', 'x', '--name-en', 'y', '--price', '12.5', '--validity', '1h');
      expect(badPrice.code).toBe(2);
      expect(badPrice.stderr).toMatch(/--price must be a whole number of XAF/);
      const badAlphabet = await relais('voucher:generate', '--tenant', 'bonaberi', '--package', '1 jour', '--count', '3', '--alphabet', 'hex');
      expect(badAlphabet.code).toBe(2);
      expect(badAlphabet.stderr).toMatch(/--alphabet must be one of digits, lower, upper, mixed/);
      const tooMany = await relais('voucher:generate', '--tenant', 'bonaberi', '--package', '1 jour', '--count', '20000');
      expect(tooMany.code).toBe(1);
      expect(tooMany.stderr).toMatch(/count: at most 10000 per batch/);
      const help = await relais('voucher:generate', '--help');
      expect(help.code).toBe(0);
      expect(help.stdout).toContain('relais voucher:generate --tenant SLUG --package NAME --count N');
      expect(existsSync(join(directory, 'nothing.pdf'))).toBe(false);
    },
    PROCESS_TESTS_TIMEOUT_MS,
  );
});
