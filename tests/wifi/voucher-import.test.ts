import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { and, asc, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTenant, importVouchers, systemClock, type ImportProgress, type ImportVouchersOptions } from '@relais/core';
import { wifiImportLogs, wifiVouchers, type Database } from '@relais/db';
import { errorOf } from '../support/app-error-of.js';
import { createTestDatabase, testDrivers, type TestDatabase } from '../support/test-database.js';
import { insertWifiPackage, type TestPackage } from '../support/wifi-fixtures.js';

/**
 * A MikHmon export as INTEGRATIONS.md describes it: `,`-joined, unquoted, `\n` between rows, no
 * trailing newline; "vc" batches (username = password) and "up" batches (separate password);
 * binary byte limits; one comment with a comma (shifts the columns); two vouchers already used
 * (comment rewritten to the login date, old style and RouterOS 7.10+ ISO style).
 */
const MIKHMON_EXPORT = [
  'Username,Password,Profile,Time Limit,Data Limit,Comment',
  'k7m2pq,k7m2pq,1jour,1d,1073741824,vc-482-06.30.21-promo',
  'ab3x9z,ab3x9z,1jour,1d,1073741824,vc-482-06.30.21-promo',
  'up4kx8,28736,3heures,3h,0,up-117-07.01.21-',
  'zz9tt3,zz9tt3,1semaine,1w2d3h4m5s,,vc-483-07.02.21-Akwa, Douala',
  'hh5k2m,hh5k2m,1jour,1d,524288000,jun/30/2021 16:05:11',
  'pp8n3r,pp8n3r,1jour,1d,524288000,2021-06-30 16:05:11',
  'free77,free77,default,0s,0,',
].join('\n');

const EXPECTED_VOUCHERS = [
  { username: 'ab3x9z', password: 'ab3x9z', profile: '1jour', timeLimitSeconds: 86_400, dataLimitBytes: 1_073_741_824, comment: 'vc-482-06.30.21-promo' },
  { username: 'free77', password: 'free77', profile: 'default', timeLimitSeconds: null, dataLimitBytes: null, comment: null },
  { username: 'k7m2pq', password: 'k7m2pq', profile: '1jour', timeLimitSeconds: 86_400, dataLimitBytes: 1_073_741_824, comment: 'vc-482-06.30.21-promo' },
  { username: 'up4kx8', password: '28736', profile: '3heures', timeLimitSeconds: 10_800, dataLimitBytes: null, comment: 'up-117-07.01.21-' },
  { username: 'zz9tt3', password: 'zz9tt3', profile: '1semaine', timeLimitSeconds: 788_645, dataLimitBytes: null, comment: 'vc-483-07.02.21-Akwa, Douala' },
];

/** The same rows as a spreadsheet saves them: every cell quoted, CRLF, a BOM, and a separator. */
function spreadsheetResave(separator: ',' | ';'): Buffer {
  const rows = MIKHMON_EXPORT.split('\n').map((line, i) => {
    const cells = line.split(',');
    // Opened with ',' the shifted row has 7 columns and keeps them; a ';' file holds the comment in one cell.
    const normalised = separator === ';' && i === 4 ? [...cells.slice(0, 5), cells.slice(5).join(',')] : cells;
    return normalised.map((cell) => `"${cell.replace(/"/g, '""')}"`).join(separator);
  });
  return Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(`${rows.join('\r\n')}\r\n`)]);
}

const ROUTEROS_SCRIPT = `# jul/14/2023 10:00:00 by RouterOS 6.49.10
# software id = ABCD-1234
/ip hotspot user profile
add name=1jour on-login=":put (\\",rem,500,1d,,,Disable,\\")" shared-users=1
/ip hotspot user
add comment="vc-482-06.30.21-promo" limit-bytes-total=1073741824 limit-uptime=1d name=k7m2pq password=k7m2pq \\
    profile=1jour
add comment="vc-482-06.30.21-promo" limit-bytes-total=1073741824 limit-uptime=1d name=ab3x9z \\
    password=ab3x9z profile=1jour
add comment=up-117-07.01.21- limit-uptime=3h name=up4kx8 password=28736 profile=3heures
add comment="vc-483-07.02.21-Akwa, Douala" limit-uptime=1w2d3h4m5s name=zz9tt3 password=zz9tt3 profile=1semaine
add comment="jun/30/2021 16:05:11" limit-uptime=1d name=hh5k2m password=hh5k2m profile=1jour
add comment="2021-06-30 16:05:11" limit-uptime=1d name=pp8n3r password=pp8n3r profile=1jour
add limit-uptime=0s name=free77 password=free77 profile=default
/ip hotspot walled-garden ip
add action=accept disabled=no dst-host=campay.net
`;

describe.each(testDrivers())('importVouchers on %s', (driver) => {
  let test: TestDatabase;
  let db: Database;
  let directory: string;
  const deps = () => ({ db, clock: systemClock });

  beforeAll(async () => {
    test = await createTestDatabase(driver);
    db = test.db;
    directory = mkdtempSync(join(tmpdir(), 'relais-voucher-import-'));
  });
  afterAll(async () => {
    await test?.drop();
    if (directory) rmSync(directory, { recursive: true, force: true });
  });

  /** A reseller of its own with one package ("1 jour" / "1 day"). */
  async function reseller(): Promise<{ tenantId: string; pkg: TestPackage }> {
    const stamp = randomBytes(4).toString('hex');
    const { tenant } = await createTenant(deps(), { name: `Wifi Zone ${stamp}`, slug: `zone-${stamp}`, email: `zone-${stamp}@example.cm`, mode: 'commission' });
    return { tenantId: tenant.id, pkg: await insertWifiPackage(db, tenant.id) };
  }

  const streamOf = (content: string | Buffer, name = 'export-user-hotspot-mikhmon-2021-07-02.csv') => ({
    stream: Readable.from([typeof content === 'string' ? Buffer.from(content) : content]),
    name,
  });

  const importText = (tenantId: string, pkg: TestPackage, content: string | Buffer, options: Partial<ImportVouchersOptions> = {}) =>
    importVouchers(deps(), { tenantId, package: { id: pkg.id }, file: streamOf(content), ...options });

  const stock = (tenantId: string) =>
    db.withTenant(tenantId, (tx) =>
      tx
        .select({
          username: wifiVouchers.username,
          password: wifiVouchers.password,
          profile: wifiVouchers.profile,
          timeLimitSeconds: wifiVouchers.timeLimitSeconds,
          dataLimitBytes: wifiVouchers.dataLimitBytes,
          comment: wifiVouchers.comment,
        })
        .from(wifiVouchers)
        .where(eq(wifiVouchers.tenantId, tenantId))
        .orderBy(asc(wifiVouchers.username)),
    );

  const logOf = async (tenantId: string, id: string) =>
    (await db.withTenant(tenantId, (tx) => tx.select().from(wifiImportLogs).where(and(eq(wifiImportLogs.tenantId, tenantId), eq(wifiImportLogs.id, id)))))[0]!;

  it('imports a MikHmon export as MikHmon writes it: limits, shifted comment, used vouchers counted, run logged', async () => {
    const { tenantId, pkg } = await reseller();
    const report = await importText(tenantId, pkg, MIKHMON_EXPORT);

    expect(report).toMatchObject({ status: 'completed', format: 'mikhmon_csv', mode: 'all_or_nothing', dryRun: false });
    expect(report.counts).toEqual({ rows: 7, imported: 5, accepted: 5, duplicatesInFile: 0, duplicatesInStock: 0, alreadyUsed: 2, rejected: 0, ignoredLines: 0 });
    expect(await stock(tenantId)).toEqual(EXPECTED_VOUCHERS);
    const rows = await db.withTenant(tenantId, (tx) => tx.select().from(wifiVouchers).where(eq(wifiVouchers.tenantId, tenantId)));
    for (const row of rows) expect(row).toMatchObject({ packageId: pkg.id, status: 'available', source: 'import', importLogId: report.importLogId });

    const log = await logOf(tenantId, report.importLogId);
    expect(log).toMatchObject({
      status: 'completed',
      format: 'mikhmon_csv',
      fileName: 'export-user-hotspot-mikhmon-2021-07-02.csv',
      importedCount: 5,
      duplicateCount: 0,
      alreadyUsedCount: 2,
      rejectedCount: 0,
      dryRun: false,
    });
    expect(log.fileSha256).toMatch(/^[0-9a-f]{64}$/);
    expect(log.finishedAt).toBeInstanceOf(Date);
    expect(report.summary.fr).toContain('5 bons importés');
    expect(report.summary.en).toContain('5 vouchers imported');
  });

  it.each([
    ['BOM, CRLF, quoted cells, "," separator', spreadsheetResave(',')],
    ['BOM, CRLF, quoted cells, ";" separator', spreadsheetResave(';')],
  ])('reads the same export re-saved by a spreadsheet (%s)', async (_, content) => {
    const { tenantId, pkg } = await reseller();
    const report = await importText(tenantId, pkg, content);
    expect(report.status).toBe('completed');
    expect(report.counts).toMatchObject({ rows: 7, imported: 5, alreadyUsed: 2, rejected: 0 });
    expect(await stock(tenantId)).toEqual(EXPECTED_VOUCHERS);
  });

  it('reads a RouterOS script export: wrapped lines, only /ip hotspot user entries, used comments', async () => {
    const { tenantId, pkg } = await reseller();
    const report = await importText(tenantId, pkg, ROUTEROS_SCRIPT);
    expect(report.format).toBe('routeros_script');
    expect(report.counts).toMatchObject({ rows: 7, imported: 5, alreadyUsed: 2, rejected: 0, ignoredLines: 2 });
    // The script carries no data limit where MikHmon wrote 0 or nothing: same stock as the CSV.
    expect(await stock(tenantId)).toEqual(EXPECTED_VOUCHERS);
  });

  it('reads a plain list of codes (username = password), with an optional header word', async () => {
    const { tenantId, pkg } = await reseller();
    const report = await importText(tenantId, pkg, 'Code\r\nk7m2pq\r\n\r\nab3x9z\r\n# printed 2021-07-02\r\nzz9tt3');
    expect(report).toMatchObject({ status: 'completed', format: 'plain_list' });
    expect(report.counts).toMatchObject({ rows: 3, imported: 3, ignoredLines: 1 });
    expect((await stock(tenantId)).map((v) => [v.username, v.password, v.profile, v.timeLimitSeconds])).toEqual([
      ['ab3x9z', 'ab3x9z', null, null],
      ['k7m2pq', 'k7m2pq', null, null],
      ['zz9tt3', 'zz9tt3', null, null],
    ]);
  });

  it('counts duplicates in the file and in stock, and a second import of the same file changes nothing', async () => {
    const { tenantId, pkg } = await reseller();
    const withRepeats = `${MIKHMON_EXPORT}\nk7m2pq,k7m2pq,1jour,1d,1073741824,vc-482-06.30.21-promo\nab3x9z,other,1jour,1d,,again`;
    const first = await importText(tenantId, pkg, withRepeats);
    expect(first.counts).toMatchObject({ rows: 9, imported: 5, duplicatesInFile: 2, duplicatesInStock: 0 });
    const before = await db.withTenant(tenantId, (tx) => tx.select().from(wifiVouchers).orderBy(asc(wifiVouchers.username)));

    const second = await importText(tenantId, pkg, withRepeats);
    expect(second.status).toBe('completed');
    expect(second.counts).toMatchObject({ rows: 9, imported: 0, accepted: 0, duplicatesInFile: 2, duplicatesInStock: 5, alreadyUsed: 2 });
    expect(await db.withTenant(tenantId, (tx) => tx.select().from(wifiVouchers).orderBy(asc(wifiVouchers.username)))).toEqual(before);
    expect(await logOf(tenantId, second.importLogId)).toMatchObject({ status: 'completed', importedCount: 0, duplicateCount: 7 });
    expect(second.summary.en).toContain('0 vouchers imported');
  });

  const WITH_BAD_ROWS = [
    'Username,Password,Profile,Time Limit,Data Limit,Comment',
    'good01,good01,1jour,1d,,',
    'bad user,x,1jour,1d,,', // line 3: space in the username
    'good02,good02,1jour,1d,,',
    'nopass,,1jour,1d,,', // line 5
    'badtime,badtime,1jour,1 day,,', // line 6
    'baddata,baddata,1jour,1d,lots,', // line 7
    '',
    'good03,good03,1jour,1d,,',
  ].join('\n');

  it('all-or-nothing (the default): one rejected row and nothing is imported; the report gives lines and reasons', async () => {
    const { tenantId, pkg } = await reseller();
    const report = await importText(tenantId, pkg, WITH_BAD_ROWS);
    expect(report.status).toBe('rejected');
    expect(report.counts).toMatchObject({ rows: 7, imported: 0, accepted: 3, rejected: 4 });
    expect(report.rejectedRows.map((row) => [row.line, row.code])).toEqual([
      [3, 'USERNAME_INVALID'],
      [5, 'PASSWORD_MISSING'],
      [6, 'TIME_LIMIT_INVALID'],
      [7, 'DATA_LIMIT_INVALID'],
    ]);
    expect(report.rejectedRows[2]!.message.fr).toContain('"1 day"');
    expect(report.rejectedRows[2]!.message.en).toContain('RouterOS duration');
    expect(report.summary.fr).toMatch(/^Rien n'a été importé : 4 lignes rejetées en mode tout ou rien/);
    expect(report.summary.en).toMatch(/^Nothing was imported: 4 rows were rejected/);
    expect(await stock(tenantId)).toEqual([]);
    const log = await logOf(tenantId, report.importLogId);
    expect(log).toMatchObject({ status: 'rejected', importedCount: 0, rejectedCount: 4 });
    const stored = log.report as { rejectedRows: { line: number; code: string; message: { fr: string; en: string } }[] };
    expect(stored.rejectedRows.map((row) => row.line)).toEqual([3, 5, 6, 7]);
    expect(stored.rejectedRows[0]!.message.en).toContain('Invalid username "bad user"');
  });

  it('valid-rows-only imports the rest and still reports the rejected rows', async () => {
    const { tenantId, pkg } = await reseller();
    const report = await importText(tenantId, pkg, WITH_BAD_ROWS, { mode: 'valid_rows_only' });
    expect(report.status).toBe('completed');
    expect(report.counts).toMatchObject({ imported: 3, rejected: 4 });
    expect(report.rejectedRows.map((row) => row.line)).toEqual([3, 5, 6, 7]);
    expect((await stock(tenantId)).map((v) => v.username)).toEqual(['good01', 'good02', 'good03']);
    expect(await logOf(tenantId, report.importLogId)).toMatchObject({ status: 'completed', mode: 'valid_rows_only', importedCount: 3, rejectedCount: 4 });
  });

  it('a dry run checks and counts against the stock but writes no voucher; its log says dry_run', async () => {
    const { tenantId, pkg } = await reseller();
    await importText(tenantId, pkg, 'k7m2pq\nab3x9z');
    const report = await importText(tenantId, pkg, MIKHMON_EXPORT, { dryRun: true });
    expect(report).toMatchObject({ status: 'completed', dryRun: true });
    expect(report.counts).toMatchObject({ rows: 7, imported: 0, accepted: 3, duplicatesInStock: 2, alreadyUsed: 2 });
    expect(report.summary.en).toMatch(/^Dry run, nothing written: 3 vouchers would be imported/);
    expect((await stock(tenantId)).map((v) => v.username)).toEqual(['ab3x9z', 'k7m2pq']);
    expect(await logOf(tenantId, report.importLogId)).toMatchObject({ dryRun: true, status: 'completed', importedCount: 0 });

    const rejected = await importText(tenantId, pkg, WITH_BAD_ROWS, { dryRun: true });
    expect(rejected).toMatchObject({ status: 'rejected', dryRun: true });
    expect(rejected.counts).toMatchObject({ accepted: 3, rejected: 4 });
  });

  it.each([
    ['a PDF', Buffer.from('%PDF-1.7\n%âãÏÓ\n1 0 obj\n<< /Type /Catalog >>\nendobj\n', 'latin1'), 'FILE_BINARY'],
    ['an Excel workbook', Buffer.from([0x50, 0x4b, 0x03, 0x04, 0x14, 0x00, 0x06, 0x00]), 'FILE_BINARY'],
    ['binary noise', Buffer.from([0x01, 0x00, 0xff, 0x10, 0x00, 0x7f, 0x80, 0x81]), 'FILE_BINARY'],
    ['a CSV with other headers', Buffer.from('name,phone,email\nAwa,+237670000001,awa@example.cm\n'), 'FILE_UNKNOWN_HEADER'],
    ['prose', Buffer.from('Bonjour, voici les codes.\n'), 'FILE_UNKNOWN_HEADER'],
    ['a sentence', Buffer.from('Here are the codes\n'), 'FILE_UNRECOGNISED'],
    ['an empty file', Buffer.alloc(0), 'FILE_EMPTY'],
    ['a header and no rows', Buffer.from('Username,Password,Profile,Time Limit,Data Limit,Comment'), 'FILE_NO_ROWS'],
  ])('rejects %s, saying what a voucher file is (FR/EN)', async (_, content, code) => {
    const { tenantId, pkg } = await reseller();
    const report = await importText(tenantId, pkg, content);
    expect(report.status).toBe('rejected');
    expect(report.fileRejection?.code).toBe(code);
    expect(report.fileRejection!.message.fr).toContain('Formats acceptés');
    expect(report.fileRejection!.message.en).toContain('Username,Password,Profile,Time Limit,Data Limit,Comment');
    expect(report.summary).toEqual(report.fileRejection!.message);
    expect(await stock(tenantId)).toEqual([]);
    const log = await logOf(tenantId, report.importLogId);
    expect(log).toMatchObject({ status: 'rejected', importedCount: 0 });
    expect((log.report as { fileRejection: { code: string } }).fileRejection.code).toBe(code);
  });

  it('keeps tenants apart: the same usernames import into two resellers', async () => {
    const first = await reseller();
    const second = await reseller();
    expect((await importText(first.tenantId, first.pkg, MIKHMON_EXPORT)).counts.imported).toBe(5);
    expect((await importText(second.tenantId, second.pkg, MIKHMON_EXPORT)).counts).toMatchObject({ imported: 5, duplicatesInStock: 0 });
    expect(await stock(first.tenantId)).toEqual(EXPECTED_VOUCHERS);
    expect(await stock(second.tenantId)).toEqual(EXPECTED_VOUCHERS);
    // A package of another tenant is not found from this one.
    expect((await errorOf(importText(first.tenantId, second.pkg, MIKHMON_EXPORT))).code).toBe('NOT_FOUND');
  });

  it('reads a file from disk in batches, reports progress, and finds the package by French or English name', async () => {
    const { tenantId, pkg } = await reseller();
    const rows = Array.from({ length: 250 }, (_, i) => `v${String(i).padStart(5, '0')},p${i},1jour,1d,,vc-${i}`);
    const path = join(directory, 'export-user-hotspot-mikhmon-2021-07-03.csv');
    writeFileSync(path, ['Username,Password,Profile,Time Limit,Data Limit,Comment', ...rows, rows[3]].join('\n'));
    const progress: ImportProgress[] = [];
    const report = await importVouchers(deps(), {
      tenantId,
      package: { name: '1 DAY' },
      file: { path },
      batchSize: 40,
      onProgress: (p) => progress.push({ ...p }),
    });
    expect(report).toMatchObject({ status: 'completed', fileName: 'export-user-hotspot-mikhmon-2021-07-03.csv' });
    expect(report.counts).toMatchObject({ rows: 251, imported: 250, duplicatesInFile: 1 });
    expect(progress.length).toBeGreaterThanOrEqual(7);
    expect(progress.map((p) => p.rowsProcessed)).toEqual([...progress.map((p) => p.rowsProcessed)].sort((a, b) => a - b));
    expect(progress.at(-1)).toMatchObject({ rowsProcessed: 251, totalBytes: report.bytesRead, bytesRead: report.bytesRead });

    const byFrenchName = await importVouchers(deps(), { tenantId, package: { name: '1 jour' }, file: { path } });
    expect(byFrenchName.counts).toMatchObject({ imported: 0, duplicatesInStock: 250 });
    expect((await errorOf(importVouchers(deps(), { tenantId, package: { name: '1 mois' }, file: { path } }))).code).toBe('NOT_FOUND');
    expect((await errorOf(importVouchers(deps(), { tenantId, package: { id: pkg.id }, file: { path: join(directory, 'missing.csv') } }))).code).toBe('NOT_FOUND');
  });

  it('keeps the first 1 000 rejected rows in the report and the log, and counts them all', async () => {
    const { tenantId, pkg } = await reseller();
    const rows = Array.from({ length: 1_200 }, (_, i) => `user${i},,1jour,1d,,`);
    const report = await importText(tenantId, pkg, ['Username,Password,Profile,Time Limit,Data Limit,Comment', ...rows].join('\n'), { mode: 'valid_rows_only' });
    expect(report.counts.rejected).toBe(1_200);
    expect(report.rejectedRows).toHaveLength(1_000);
    expect(report.rejectedRows.at(-1)).toMatchObject({ line: 1_001, code: 'PASSWORD_MISSING', username: 'user999' });
    const log = await logOf(tenantId, report.importLogId);
    expect(log.rejectedCount).toBe(1_200);
    expect((log.report as { rejectedRows: unknown[] }).rejectedRows).toHaveLength(1_000);
  });

  it('a read error half-way imports nothing and leaves the run marked failed', async () => {
    const { tenantId, pkg } = await reseller();
    // Past the first 64 KiB (read to detect the format), so the run has started and inserted batches.
    const head = Buffer.from(`Username,Password,Profile,Time Limit,Data Limit,Comment\n${Array.from({ length: 4_000 }, (_, i) => `cut${i},cut${i},1jour,1d,,`).join('\n')}\n`);
    async function* brokenUpload() {
      yield head;
      throw new Error('connection reset by the uploader');
    }
    const error = await importVouchers(deps(), { tenantId, package: { id: pkg.id }, file: { stream: brokenUpload(), name: 'upload.csv' }, batchSize: 500, mode: 'valid_rows_only' }).catch((e: unknown) => e);
    expect((error as Error).message).toBe('connection reset by the uploader');
    expect(await stock(tenantId)).toEqual([]);
    const [log] = await db.withTenant(tenantId, (tx) => tx.select().from(wifiImportLogs).where(eq(wifiImportLogs.tenantId, tenantId)));
    expect(log).toMatchObject({ status: 'failed', importedCount: 0 });
    expect((log!.report as { failure: { fr: string; en: string } }).failure.en).toContain('Try again');
  });
});
