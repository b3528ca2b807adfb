import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTenant, systemClock } from '@relais/core';
import { openDatabase, wifiVouchers, type DatabaseConfig } from '@relais/db';
import { runRelais } from '../support/relais-process.js';
import { primaryTestDriver } from '../support/test-database.js';
import { insertWifiPackage } from '../support/wifi-fixtures.js';
import { createCliEnvironment, type CliEnvironment } from '../support/cli-environment.js';

/** Each run is a process that opens (on PGlite: starts and migrates) its database: seconds, not milliseconds. */
const PROCESS_TEST_TIMEOUT_MS = 120_000;

/** The real `relais` process against a database of its own. */
describe(`relais wifi:import on ${primaryTestDriver()}`, () => {
  let directory: string;
  let env: NodeJS.ProcessEnv;
  let databaseConfig: DatabaseConfig;
  let cli: CliEnvironment | undefined;
  let tenantId: string;
  const slug = `zone-${randomBytes(3).toString('hex')}`;

  const file = (name: string, content: string) => {
    const path = join(directory, name);
    writeFileSync(path, content);
    return path;
  };
  const relais = (...args: string[]) => runRelais(['wifi:import', ...args], env);

  beforeAll(async () => {
    cli = await createCliEnvironment('wifi-import-cli');
    ({ directory, env, databaseConfig } = cli);
    const db = await openDatabase(databaseConfig);
    try {
      tenantId = (await createTenant({ db, clock: systemClock }, { name: 'Wifi Zone Bonamoussadi', slug, email: `${slug}@example.cm`, mode: 'commission' })).tenant.id;
      await insertWifiPackage(db, tenantId, { nameFr: '1 semaine', nameEn: '1 week' });
    } finally {
      await db.close();
    }
  });
  afterAll(async () => {
    await cli?.cleanup();
  });

  const EXPORT = [
    'Username,Password,Profile,Time Limit,Data Limit,Comment',
    'k7m2pq,k7m2pq,1semaine,1w,1073741824,vc-482-06.30.21-promo',
    'ab3x9z,ab3x9z,1semaine,1w,1073741824,vc-482-06.30.21-promo',
    'hh5k2m,hh5k2m,1semaine,1w,,jun/30/2021 16:05:11',
  ].join('\n');

  it('imports a MikHmon file into the package named in English (any case), with progress on stderr; again with --dry-run', async () => {
    const path = file('export-user-hotspot-mikhmon-2021-07-02.csv', EXPORT);
    const first = await relais('--tenant', slug, '--file', path, '--package', '1 WEEK');
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/: completed — export-user-hotspot-mikhmon-2021-07-02\.csv, MikHmon CSV, all-or-nothing/);
    expect(first.stdout).toMatch(/imported\s+2\n/);
    expect(first.stdout).toMatch(/already used\s+1\n/);
    expect(first.stdout).toContain('FR: 2 bons importés');
    expect(first.stderr).toMatch(/3 rows read \(100% of the file, \d+ bytes\) in [\d.]+ s, \d+ rows\/s/);

    const dry = await relais('--tenant', slug, '--file', path, '--package', '1 semaine', '--dry-run', '--json');
    expect(dry.code, dry.stderr).toBe(0);
    expect(JSON.parse(dry.stdout)).toMatchObject({ status: 'completed', dryRun: true, counts: { accepted: 0, duplicatesInStock: 2, alreadyUsed: 1 } });

    const db = await openDatabase(databaseConfig);
    try {
      const stock = await db.withTenant(tenantId, (tx) => tx.select({ username: wifiVouchers.username }).from(wifiVouchers).where(eq(wifiVouchers.tenantId, tenantId)));
      expect(stock.map((v) => v.username).sort()).toEqual(['ab3x9z', 'k7m2pq']);
    } finally {
      await db.close();
    }
  }, PROCESS_TEST_TIMEOUT_MS);

  it('all-or-nothing by default: exit 1 and the rejected rows with their lines; --valid-rows-only imports the rest', async () => {
    const path = file('mixed.csv', ['Username,Password,Profile,Time Limit,Data Limit,Comment', 'good01,good01,,1d,,', 'bad user,x,,1d,,', 'good02,good02,,one day,,'].join('\n'));
    const rejected = await relais('--tenant', slug, '--file', path, '--package', '1 week');
    expect(rejected.code).toBe(1);
    expect(rejected.stdout).toContain('Rejected rows (2 of 2):');
    expect(rejected.stdout).toMatch(/line 3 {2}USERNAME_INVALID {2}Invalid username "bad user"/);
    expect(rejected.stdout).toMatch(/line 4 {2}TIME_LIMIT_INVALID {2}Unreadable time limit "one day"/);
    expect(rejected.stdout).toContain("FR: Rien n'a été importé");
    expect(rejected.stderr).toContain('relais: import rejected, nothing imported');

    const valid = await relais('--tenant', slug, '--file', path, '--package', '1 week', '--valid-rows-only');
    expect(valid.code, valid.stderr).toBe(0);
    expect(valid.stdout).toMatch(/imported\s+1\n/);
    expect(valid.stdout).toMatch(/rejected\s+2\n/);
  }, PROCESS_TEST_TIMEOUT_MS);

  it('rejects a file that is not a voucher list, saying what is expected in FR and EN', async () => {
    const pdf = await relais('--tenant', slug, '--file', file('bon.pdf', '%PDF-1.4\n'), '--package', '1 week');
    expect(pdf.code).toBe(1);
    expect(pdf.stdout).toContain('EN: This file is not text (PDF)');
    expect(pdf.stdout).toContain('FR: Ce fichier n\'est pas du texte (PDF)');
  }, PROCESS_TEST_TIMEOUT_MS);

  it('says clearly what is wrong: unknown tenant, package or file, missing flag; --help names the default mode', async () => {
    const path = file('ok.csv', EXPORT);
    const tenant = await relais('--tenant', 'nobody', '--file', path, '--package', '1 week');
    expect([tenant.code, tenant.stderr.trim()]).toEqual([1, 'relais: no tenant with slug "nobody" (see relais tenant:list)']);
    const pkg = await relais('--tenant', slug, '--file', path, '--package', '1 mois');
    expect(pkg.code).toBe(1);
    expect(pkg.stderr).toContain('no WiFi package named "1 mois"');
    const missing = await relais('--tenant', slug, '--file', join(directory, 'nope.csv'), '--package', '1 week');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('file not found');
    const usage = await relais('--tenant', slug, '--package', '1 week');
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('--file is required');

    const help = await relais('--help');
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('all-or-nothing by default');
  }, PROCESS_TEST_TIMEOUT_MS);
});
