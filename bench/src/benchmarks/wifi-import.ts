/**
 * Voucher import: a 100 000-row MikHmon export imported with importVouchers (stream, parse,
 * validate, dedupe, batched INSERT ... ON CONFLICT DO NOTHING under withTenant and forced RLS,
 * import log) into a fresh database, against the baseline of PostgreSQL's own COPY of the same
 * file into a plain table (owner connection, no index, no RLS), same database, same run.
 *
 * Also measured, to show where the time goes and why the insert is written as it is: reading and
 * checking the file alone (no database), other batch sizes, and the two ways of inserting the
 * same pre-parsed rows — one `unnest` of array parameters per batch (what the import does) and
 * drizzle's multi-row VALUES (about 11 parameters a row).
 */
import { createReadStream } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { importVouchers, openVoucherFile, systemClock, type ImportedVoucher } from '@relais/core';
import { tenants, wifiPackages, wifiVouchers, wifiImportLogs, type Database } from '@relais/db';
import { insertVoucherBatch } from '../../../core/src/wifi/import/voucher-stock-batch.js';
import { machine, publish } from '../report.js';
import { createScratchDatabase } from '../scratch-database.js';
import { positiveInteger } from '../env.js';


const ROWS = positiveInteger('BENCH_IMPORT_ROWS', 100_000);
const WARMUP_ROWS = 5_000;
const COPY_RUNS = 3;
const IMPORT_RUNS = 2;
const INSERT_BATCH = 2_000;
const TARGETS = { import_to_copy_ratio: 0.25 };

// MikHmon's alphabet without look-alikes: every row gets a distinct 8-character name.
const ALPHABET = '23456789abcdefghijkmnprstuvwxyzABCDEFGHJKLMNPRSTUVWXYZ';
function username(index: number): string {
  let name = '';
  for (let rest = index, i = 0; i < 7; i += 1, rest = Math.floor(rest / ALPHABET.length)) name += ALPHABET[rest % ALPHABET.length];
  return `v${name}`;
}

/** A MikHmon export of `rows` vouchers: "vc" and "up" batches, time and data limits, no trailing newline. */
export function mikhmonExport(rows: number, offset = 0): string {
  const lines = ['Username,Password,Profile,Time Limit,Data Limit,Comment'];
  for (let i = offset; i < offset + rows; i += 1) {
    const name = username(i);
    const batch = String(Math.floor(i / 500) % 1000).padStart(3, '0');
    lines.push(i % 2 === 0 ? `${name},${name},1jour,1d,1073741824,vc-${batch}-07.02.21-bench` : `${name},${String(10_000 + (i % 90_000))},3heures,3h,,up-${batch}-07.02.21-bench`);
  }
  return lines.join('\n');
}

async function newTenant(db: Database, label: string): Promise<{ tenantId: string; packageId: string }> {
  const stamp = `${label}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}`;
  const [tenant] = await db.withPlatform((tx) => tx.insert(tenants).values({ slug: `bench-${stamp}`, name: `Bench ${stamp}`, email: `${stamp}@example.test`, billingMode: 'commission' }).returning());
  const tenantId = tenant!.id;
  const [pkg] = await db.withTenant(tenantId, (tx) =>
    tx.insert(wifiPackages).values({ tenantId, nameFr: '1 jour', nameEn: '1 day', priceXaf: 500, validityMinutes: 1_440 }).returning(),
  );
  return { tenantId, packageId: pkg!.id };
}

async function sequentially(times: number, work: (run: number) => Promise<number>): Promise<number[]> {
  const results: number[] = [];
  for (let run = 1; run <= times; run += 1) results.push(await work(run));
  return results;
}

async function timed<T>(work: () => Promise<T>): Promise<{ result: T; seconds: number }> {
  const started = performance.now();
  const result = await work();
  return { result, seconds: (performance.now() - started) / 1000 };
}

async function importFile(db: Database, path: string, batchSize: number, label: string): Promise<number> {
  const { tenantId, packageId } = await newTenant(db, label);
  const { result, seconds } = await timed(() => importVouchers({ db, clock: systemClock }, { tenantId, package: { id: packageId }, file: { path }, batchSize }));
  if (result.status !== 'completed' || result.counts.imported !== result.counts.rows) throw new Error(`import ${label} did not import every row: ${JSON.stringify(result.counts)}`);
  return result.counts.rows / seconds;
}

/**
 * COPY ... FROM STDIN on a node-postgres client, as a "submittable" (the interface pg-cursor and
 * pg-copy-streams use): the bench needs nothing more than sending the file's bytes.
 */
function copyFromStdin(client: pg.Client, statement: string, data: Buffer): Promise<number> {
  return new Promise((resolve, reject) => {
    let failure: Error | undefined;
    let copied = 0;
    const CHUNK = 64 * 1024;
    const submittable = {
      submit: (connection: { query(text: string): void }) => connection.query(statement),
      handleCopyInResponse(connection: { sendCopyFromChunk(chunk: Buffer): void; endCopyFrom(): void }) {
        for (let start = 0; start < data.length; start += CHUNK) connection.sendCopyFromChunk(data.subarray(start, start + CHUNK));
        connection.endCopyFrom();
      },
      handleCommandComplete(message: { text: string }) {
        copied = Number(message.text.split(' ')[1]);
      },
      handleError(error: Error) {
        failure = error;
      },
      handleReadyForQuery() {
        if (failure) reject(failure);
        else resolve(copied);
      },
      handleRowDescription() {},
      handleDataRow() {},
      handleEmptyQuery() {},
      handlePortalSuspended() {},
      handleCopyData() {},
    };
    client.query(submittable as unknown as pg.QueryConfig);
  });
}

const COPY_TABLE = 'CREATE TABLE bench_voucher_copy (username text, password text, profile text, time_limit text, data_limit text, comment text)';
const COPY_STATEMENT = 'COPY bench_voucher_copy FROM STDIN WITH (FORMAT csv, HEADER true)';

/** Best of COPY_RUNS: rows/s of PostgreSQL loading the same file into a plain table. */
async function copyBaseline(ownerUrl: string | undefined, file: Buffer): Promise<number> {
  let best = 0;
  if (ownerUrl) {
    const client = new pg.Client({ connectionString: ownerUrl });
    await client.connect();
    try {
      for (let run = 0; run < COPY_RUNS; run += 1) {
        await client.query('DROP TABLE IF EXISTS bench_voucher_copy');
        await client.query(COPY_TABLE);
        const { result, seconds } = await timed(() => copyFromStdin(client, COPY_STATEMENT, file));
        if (result !== ROWS) throw new Error(`COPY loaded ${result} rows, expected ${ROWS}`);
        best = Math.max(best, result / seconds);
      }
      await client.query('DROP TABLE IF EXISTS bench_voucher_copy');
    } finally {
      await client.end();
    }
    return best;
  }
  // The application's PGlite only runs runtime-role transactions: the baseline gets its own.
  const lite = new PGlite('memory://');
  try {
    for (let run = 0; run < COPY_RUNS; run += 1) {
      await lite.exec(`DROP TABLE IF EXISTS bench_voucher_copy; ${COPY_TABLE}`);
      const { seconds } = await timed(() => lite.query(COPY_STATEMENT.replace('STDIN', "'/dev/blob'"), [], { blob: new Blob([file]) }));
      const [{ count }] = (await lite.query<{ count: number }>('SELECT count(*)::integer AS count FROM bench_voucher_copy')).rows as [{ count: number }];
      if (count !== ROWS) throw new Error(`COPY loaded ${count} rows, expected ${ROWS}`);
      best = Math.max(best, ROWS / seconds);
    }
  } finally {
    await lite.close();
  }
  return best;
}

/**
 * The target's baseline: a raw COPY of the same rows into the table they belong in, wifi_vouchers,
 * on the owner connection (its indexes and foreign keys, no RLS for the owner, no ON CONFLICT,
 * no parsing or validation). PostgreSQL only. The plain-table COPY (copyBaseline) is reported
 * beside it: it shows what the table's constraints cost, which no import can avoid.
 */
async function copyIntoVouchers(db: Database, ownerUrl: string, vouchers: ImportedVoucher[]): Promise<number> {
  const { tenantId, packageId } = await newTenant(db, 'copy-vouchers');
  const [log] = await db.withTenant(tenantId, (tx) =>
    tx.insert(wifiImportLogs).values({ tenantId, packageId, fileName: 'bench.csv', fileSha256: '', format: 'mikhmon_csv', mode: 'valid_rows_only', status: 'running' }).returning(),
  );
  // The bench's rows hold no comma or quote: plain CSV, an empty cell is NULL.
  const csv = Buffer.from(
    vouchers.map((v) => [tenantId, packageId, log!.id, v.username, v.password, 'available', 'import', v.comment ?? '', v.profile ?? '', v.timeLimitSeconds ?? '', v.dataLimitBytes ?? ''].join(',')).join('\n'),
  );
  const client = new pg.Client({ connectionString: ownerUrl });
  await client.connect();
  try {
    const statement =
      'COPY wifi_vouchers (tenant_id, package_id, import_log_id, username, password, status, source, comment, profile, time_limit_seconds, data_limit_bytes) FROM STDIN WITH (FORMAT csv)';
    const { result, seconds } = await timed(() => copyFromStdin(client, statement, csv));
    if (result !== vouchers.length) throw new Error(`COPY into wifi_vouchers loaded ${result} rows, expected ${vouchers.length}`);
    return result / seconds;
  } finally {
    await client.end();
  }
}

async function parsedVouchers(path: string): Promise<{ vouchers: ImportedVoucher[]; rowsPerSecond: number }> {
  const vouchers: ImportedVoucher[] = [];
  const { seconds } = await timed(async () => {
    const file = await openVoucherFile(createReadStream(path, { highWaterMark: 64 * 1024 }));
    for await (const rows of file.batches()) for (const row of rows) if (row.kind === 'voucher') vouchers.push(row.voucher);
  });
  if (vouchers.length !== ROWS) throw new Error(`parsed ${vouchers.length} vouchers, expected ${ROWS}`);
  return { vouchers, rowsPerSecond: ROWS / seconds };
}

/** Inserts pre-parsed rows in one withTenant transaction, `insert` per batch of INSERT_BATCH. */
async function insertOnly(db: Database, vouchers: ImportedVoucher[], label: string, insert: (tx: Parameters<Parameters<Database['withTenant']>[1]>[0], target: { tenantId: string; packageId: string; importLogId: string }, batch: ImportedVoucher[]) => Promise<unknown>): Promise<number> {
  const { tenantId, packageId } = await newTenant(db, label);
  const [log] = await db.withTenant(tenantId, (tx) =>
    tx.insert(wifiImportLogs).values({ tenantId, packageId, fileName: 'bench.csv', fileSha256: '', format: 'mikhmon_csv', mode: 'valid_rows_only', status: 'running' }).returning(),
  );
  const target = { tenantId, packageId, importLogId: log!.id };
  const { seconds } = await timed(() =>
    db.withTenant(tenantId, async (tx) => {
      for (let start = 0; start < vouchers.length; start += INSERT_BATCH) await insert(tx, target, vouchers.slice(start, start + INSERT_BATCH));
    }),
  );
  return vouchers.length / seconds;
}

export async function runWifiImportBenchmark(): Promise<{
  figures: Record<string, number>;
  targets: Record<string, { target: number; met: boolean }>;
  machine: Record<string, unknown>;
}> {
  const directory = await mkdtemp(join(tmpdir(), 'relais-bench-wifi-import-'));
  const scratch = await createScratchDatabase({ poolSize: 2 });
  try {
    const path = join(directory, 'export-user-hotspot-mikhmon-2021-07-02.csv');
    await writeFile(path, mikhmonExport(ROWS));
    const warmupPath = join(directory, 'warmup.csv');
    await writeFile(warmupPath, mikhmonExport(WARMUP_ROWS, ROWS));
    const file = await readFile(path);
    const { db } = scratch;

    // Warm up: connections, query plans, JIT of the parser.
    await importFile(db, warmupPath, INSERT_BATCH, 'warmup');

    const copyRowsPerSecond = await copyBaseline(scratch.ownerUrl, file);
    const parsed = await parsedVouchers(path);
    // Best of two, as for COPY: the first 100 000-row run on a fresh database is the slowest of all (WAL, buffers).
    const importRowsPerSecond = Math.max(...(await sequentially(IMPORT_RUNS, (run) => importFile(db, path, INSERT_BATCH, `import-${run}`))));
    const batch500 = await importFile(db, path, 500, 'batch500');
    const batch5000 = await importFile(db, path, 5_000, 'batch5000');
    const unnestInsert = await insertOnly(db, parsed.vouchers, 'unnest', (tx, target, batch) => insertVoucherBatch(tx, target, batch));
    const valuesInsert = await insertOnly(db, parsed.vouchers, 'values', (tx, target, batch) =>
      tx
        .insert(wifiVouchers)
        .values(batch.map((v) => ({ tenantId: target.tenantId, packageId: target.packageId, importLogId: target.importLogId, status: 'available' as const, source: 'import' as const, ...v })))
        .onConflictDoNothing({ target: [wifiVouchers.tenantId, wifiVouchers.username] }),
    );

    const copyIntoVouchersRowsPerSecond = scratch.ownerUrl ? await copyIntoVouchers(db, scratch.ownerUrl, parsed.vouchers) : undefined;

    // On PGlite there is no owner connection: the plain-table COPY is the only baseline there.
    const baselineRowsPerSecond = copyIntoVouchersRowsPerSecond ?? copyRowsPerSecond;
    const ratio = importRowsPerSecond / baselineRowsPerSecond;
    console.log(
      `wifi import: ${Math.round(importRowsPerSecond)} rows/s vs COPY into wifi_vouchers ${Math.round(baselineRowsPerSecond)} rows/s: ratio ${ratio.toFixed(3)} (target >= ${TARGETS.import_to_copy_ratio}); ` +
        `COPY into a plain table ${Math.round(copyRowsPerSecond)} rows/s (ratio ${(importRowsPerSecond / copyRowsPerSecond).toFixed(3)})`,
    );
    return {
      figures: {
        import_rows_per_s: importRowsPerSecond,
        copy_into_wifi_vouchers_rows_per_s: baselineRowsPerSecond,
        import_to_copy_ratio: ratio,
        copy_into_plain_table_rows_per_s: copyRowsPerSecond,
        import_to_plain_table_copy_ratio: importRowsPerSecond / copyRowsPerSecond,
        import_batch_500_rows_per_s: batch500,
        import_batch_5000_rows_per_s: batch5000,
        parse_only_rows_per_s: parsed.rowsPerSecond,
        insert_only_unnest_rows_per_s: unnestInsert,
        insert_only_values_rows_per_s: valuesInsert,
      },
      targets: { import_to_copy_ratio: { target: TARGETS.import_to_copy_ratio, met: ratio >= TARGETS.import_to_copy_ratio } },
      machine: machine({ driver: db.driver, server: scratch.server, rows: ROWS, fileBytes: file.length, batch: INSERT_BATCH, copyRuns: COPY_RUNS, importRuns: IMPORT_RUNS }),
    };
  } finally {
    await scratch.drop();
    await rm(directory, { recursive: true, force: true });
  }
}

/** `npm run bench -- wifi-import`: this section alone. */
export async function run(): Promise<void> {
  publish('wifi-import', await runWifiImportBenchmark());
}
