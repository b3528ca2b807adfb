import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createTenant,
  formatMikhmonCsv,
  formatRouterOsDuration,
  importVouchers,
  isAlreadyUsedComment,
  MIKHMON_HEADER_TEXT,
  openVoucherFile,
  systemClock,
  type ImportedVoucher,
  type MikhmonExportRow,
  type VoucherFileRow,
} from '@relais/core';
import type { Database } from '@relais/db';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';
import { insertWifiPackage, type TestPackage } from '../support/wifi-fixtures.js';

/** Delivers `bytes` in pieces cut at `cuts` (fractions): multi-byte characters and CRLF get split. */
function chunked(bytes: Buffer, cuts: number[]): Readable {
  const points = [...new Set(cuts.map((cut) => Math.floor(cut * bytes.length)))].sort((a, b) => a - b);
  const pieces: Buffer[] = [];
  let start = 0;
  for (const point of [...points, bytes.length]) {
    if (point > start) pieces.push(bytes.subarray(start, point));
    start = Math.max(start, point);
  }
  return Readable.from(pieces);
}

async function readAll(source: Readable): Promise<{ format: string; rows: VoucherFileRow[] }> {
  const file = await openVoucherFile(source);
  const rows: VoucherFileRow[] = [];
  for await (const batch of file.batches()) rows.push(...batch);
  return { format: file.detected.format, rows };
}

// MikHmon's generator alphabets (no look-alikes) and its 3-8 name lengths, after a prefix of up to 6.
const ALPHABET = '23456789abcdefghijkmnprstuvwxyzABCDEFGHJKLMNPRSTUVWXYZ';
const code = (min: number, max: number) => fc.string({ unit: fc.constantFrom(...ALPHABET), minLength: min, maxLength: max });
const comment = fc
  .oneof(
    fc.constant(''),
    fc.tuple(fc.integer({ min: 1, max: 999 }), fc.date({ min: new Date('2015-01-01'), max: new Date('2030-12-31'), noInvalidDate: true }), fc.string({ maxLength: 12 }).map((s) => s.replace(/[^a-z0-9]/gi, '')))
      .map(([batch, date, note]) => `vc-${String(batch).padStart(3, '0')}-${String(date.getUTCMonth() + 1).padStart(2, '0')}.${String(date.getUTCDate()).padStart(2, '0')}.${String(date.getUTCFullYear()).slice(2)}-${note}`),
    // Free text with commas (MikHmon writes them unquoted, shifting the columns).
    fc.stringMatching(/^[A-Za-z0-9.:/_-][A-Za-z0-9 ,.:/_-]{0,120}[A-Za-z0-9.:/_-]$/),
  )
  .filter((text) => !isAlreadyUsedComment(text));

const voucherRow = fc
  .record({
    username: fc.tuple(code(0, 6), code(3, 8)).map(([prefix, name]) => prefix + name),
    separatePassword: fc.option(code(3, 8), { nil: undefined }),
    profile: fc.oneof(fc.constant(''), fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9 _-]{0,18}[A-Za-z0-9]$/)),
    timeLimitSeconds: fc.option(fc.integer({ min: 1, max: 2_147_483_647 }), { nil: undefined }),
    noTimeLimit: fc.constantFrom('', '0', '0s'),
    dataLimitBytes: fc.option(fc.integer({ min: 1, max: 2 ** 50 }), { nil: undefined }),
    noDataLimit: fc.constantFrom('', '0'),
    comment,
  })
  .map((r) => {
    const row: MikhmonExportRow = {
      username: r.username,
      password: r.separatePassword ?? r.username,
      profile: r.profile,
      timeLimit: r.timeLimitSeconds === undefined ? r.noTimeLimit : formatRouterOsDuration(r.timeLimitSeconds),
      dataLimit: r.dataLimitBytes === undefined ? r.noDataLimit : String(r.dataLimitBytes),
      comment: r.comment,
    };
    const expected: ImportedVoucher = {
      username: row.username,
      password: row.password,
      profile: row.profile === '' ? null : row.profile,
      timeLimitSeconds: r.timeLimitSeconds ?? null,
      dataLimitBytes: r.dataLimitBytes ?? null,
      comment: row.comment === '' ? null : row.comment,
    };
    return { row, expected };
  });

const cuts = fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 6 });

/** Anything a reseller might upload by mistake, and near-misses of each format. */
const arbitraryFile = fc.oneof(
  fc.uint8Array({ maxLength: 400 }).map((bytes) => Buffer.from(bytes)),
  fc.string({ unit: 'binary', maxLength: 400 }).map((text) => Buffer.from(text)),
  fc.string({ maxLength: 400 }).map((text) => Buffer.from(`${MIKHMON_HEADER_TEXT}\n${text}`)),
  fc.string({ maxLength: 400 }).map((text) => Buffer.from(`\ufeffUsername;Password;Profile;Time Limit;Data Limit;Comment\r\n"${text}`)),
  fc.string({ maxLength: 400 }).map((text) => Buffer.from(`/ip hotspot user\nadd name=${text}`)),
  fc.array(fc.string({ unit: fc.constantFrom('a', 'B', '7', ' ', ',', ';', '"', '\\', '=', '\n', '\r', '\t', '#', '/', 'é'), maxLength: 30 }), { maxLength: 20 }).map((lines) => Buffer.from(lines.join('\n'))),
);

describe('voucher file parsing (properties)', () => {
  it('what MikHmon writes reads back as the same vouchers, wherever the stream is cut', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(voucherRow, { minLength: 1, maxLength: 40 }), cuts, async (rows, cutAt) => {
        const csv = formatMikhmonCsv(rows.map((r) => r.row));
        const { format, rows: read } = await readAll(chunked(Buffer.from(csv), cutAt));
        expect(format).toBe('mikhmon_csv');
        expect(read).toEqual(rows.map((r, i) => ({ line: i + 2, kind: 'voucher', voucher: r.expected })));
      }),
      { numRuns: 200 },
    );
  });

  it('the same rows re-saved by a spreadsheet (BOM, CRLF, quotes, ";") read back the same', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(voucherRow, { minLength: 1, maxLength: 40 }), cuts, async (rows, cutAt) => {
        const quote = (cell: string) => `"${cell.replace(/"/g, '""')}"`;
        const lines = [MIKHMON_HEADER_TEXT.split(','), ...rows.map(({ row }) => [row.username, row.password, row.profile, row.timeLimit, row.dataLimit, row.comment])];
        const text = `\ufeff${lines.map((cells) => cells.map(quote).join(';')).join('\r\n')}\r\n`;
        const { rows: read } = await readAll(chunked(Buffer.from(text), cutAt));
        expect(read).toEqual(rows.map((r, i) => ({ line: i + 2, kind: 'voucher', voucher: r.expected })));
      }),
      { numRuns: 100 },
    );
  });

  it('reads a whole upload handed over as one buffer (50 000 rows in a single chunk)', async () => {
    const rows = Array.from({ length: 50_000 }, (_, i) => ({ username: `u${i}`, password: `p${i}`, profile: '1jour', timeLimit: '1d', dataLimit: '', comment: `vc-${i}` }));
    const { rows: read } = await readAll(Readable.from([Buffer.from(formatMikhmonCsv(rows))]));
    expect(read).toHaveLength(50_000);
    expect(read.at(-1)).toEqual({ line: 50_001, kind: 'voucher', voucher: { username: 'u49999', password: 'p49999', profile: '1jour', timeLimitSeconds: 86_400, dataLimitBytes: null, comment: 'vc-49999' } });
  });

  it('any input is read without throwing: rows come with a line number, and a reason when rejected', async () => {
    await fc.assert(
      fc.asyncProperty(arbitraryFile, cuts, async (bytes, cutAt) => {
        const { rows } = await readAll(chunked(bytes, cutAt));
        let previous = 0;
        for (const row of rows) {
          expect(row.line).toBeGreaterThan(previous);
          previous = row.line;
          if (row.kind === 'rejected') {
            expect(row.rejection.message.fr.length).toBeGreaterThan(0);
            expect(row.rejection.message.en.length).toBeGreaterThan(0);
          }
          if (row.kind === 'voucher') expect(row.voucher.username).toMatch(/^[A-Za-z0-9._@+-]{3,64}$/);
        }
      }),
      { numRuns: 500 },
    );
  });
});

describe('importVouchers on arbitrary files (property, embedded database)', () => {
  let test: TestDatabase;
  let db: Database;
  let tenantId: string;
  let pkg: TestPackage;

  beforeAll(async () => {
    test = await createTestDatabase('pglite');
    db = test.db;
    const stamp = randomBytes(4).toString('hex');
    tenantId = (await createTenant({ db, clock: systemClock }, { name: `Zone ${stamp}`, slug: `zone-${stamp}`, email: `zone-${stamp}@example.cm`, mode: 'commission' })).tenant.id;
    pkg = await insertWifiPackage(db, tenantId);
  });
  afterAll(async () => {
    await test?.drop();
  });

  it('reports on any file, and its counts add up to the rows read', async () => {
    await fc.assert(
      fc.asyncProperty(arbitraryFile, fc.boolean(), async (bytes, dryRun) => {
        const report = await importVouchers({ db, clock: systemClock }, { tenantId, package: { id: pkg.id }, file: { stream: Readable.from([bytes]), name: 'any.txt' }, dryRun, mode: 'valid_rows_only' });
        expect(['completed', 'rejected']).toContain(report.status);
        const c = report.counts;
        expect(c.accepted + c.duplicatesInFile + c.duplicatesInStock + c.alreadyUsed + c.rejected).toBe(c.rows);
        expect(report.summary.fr.length).toBeGreaterThan(0);
        expect(report.summary.en.length).toBeGreaterThan(0);
      }),
      { numRuns: 40 },
    );
  });
});
