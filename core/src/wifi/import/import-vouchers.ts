import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { and, eq } from 'drizzle-orm';
import { z } from 'zod';
import { wifiImportLogs, type Database, type Tx } from '@relais/db';
import { AppError } from '../../shared/app-error.js';
import type { BilingualText } from '../../shared/bilingual-text.js';
import type { Clock } from '../../shared/ports/clock.js';
import { findImportPackage } from './find-import-package.js';
import { fileRejection, formatCount, type FileRejection, type RowRejectionCode } from './import-messages.js';
import { openVoucherFile, type VoucherFile } from './read-voucher-file.js';
import type { ImportedVoucher } from './voucher-fields.js';
import type { VoucherFileFormat } from './voucher-file-format.js';
import { countVouchersInStock, insertVoucherBatch } from './voucher-stock-batch.js';

export const IMPORT_MODES = ['all_or_nothing', 'valid_rows_only'] as const;
export type ImportMode = (typeof IMPORT_MODES)[number];

/** Rejected rows kept in the report (and the log): enough to fix a file, bounded for a 100 000-row mistake. */
export const REPORTED_REJECTED_ROWS = 1_000;
const DEFAULT_BATCH_SIZE = 2_000;

export interface ImportProgress {
  rowsProcessed: number;
  bytesRead: number;
  /** Known when importing from a path or when the caller gave it. */
  totalBytes?: number;
}

const isAsyncIterable = (value: unknown): value is AsyncIterable<unknown> =>
  typeof (value as { [Symbol.asyncIterator]?: unknown } | null)?.[Symbol.asyncIterator] === 'function';

export const importVouchersInput = z.object({
  tenantId: z.uuid(),
  /** The package by id, or by its French or English name (any case). */
  package: z.union([z.object({ id: z.uuid() }), z.object({ name: z.string().trim().min(1).max(200) })]),
  /** A file on disk, or a byte stream (an upload) with the name to record. */
  file: z.union([
    z.object({ path: z.string().min(1) }),
    z.object({
      stream: z.custom<AsyncIterable<unknown>>(isAsyncIterable, 'must be a readable stream'),
      name: z.string().trim().min(1).max(255),
      sizeBytes: z.number().int().nonnegative().optional(),
    }),
  ]),
  /** all_or_nothing (default): one rejected row and nothing is imported. valid_rows_only: the rest is. */
  mode: z.enum(IMPORT_MODES).default('all_or_nothing'),
  /** Read, check and count against the stock; import nothing (the run is still logged, dry_run = true). */
  dryRun: z.boolean().default(false),
  createdByUserId: z.uuid().optional(),
  /** Rows per INSERT statement. */
  batchSize: z.number().int().min(1).max(20_000).default(DEFAULT_BATCH_SIZE),
  onProgress: z.custom<(progress: ImportProgress) => void>((value) => typeof value === 'function', 'must be a function').optional(),
});
export type ImportVouchersOptions = z.input<typeof importVouchersInput>;

export interface ReportedRejectedRow {
  line: number;
  code: RowRejectionCode;
  username?: string;
  message: BilingualText;
}

export interface VoucherImportCounts {
  /** Voucher rows read (not blank lines, headers or other script sections). */
  rows: number;
  /** Vouchers added to the stock (0 for a dry run or a rejected file). */
  imported: number;
  /** Valid rows new to the stock: what was, or would have been, imported. */
  accepted: number;
  duplicatesInFile: number;
  duplicatesInStock: number;
  alreadyUsed: number;
  rejected: number;
  ignoredLines: number;
}

export interface VoucherImportReport {
  importLogId: string;
  status: 'completed' | 'rejected';
  format: VoucherFileFormat | 'unknown';
  mode: ImportMode;
  dryRun: boolean;
  fileName: string;
  fileSha256: string;
  bytesRead: number;
  counts: VoucherImportCounts;
  /** The first REPORTED_REJECTED_ROWS rejected rows, in file order; counts.rejected has them all. */
  rejectedRows: ReportedRejectedRow[];
  /** Set when the file as a whole is not a voucher list. */
  fileRejection?: FileRejection;
  summary: BilingualText;
}

/** Thrown inside the import transaction to roll it back while keeping what was counted. */
class RollBack extends Error {}

/**
 * Imports a voucher file (MikHmon CSV as exported or re-saved by a spreadsheet, RouterOS script,
 * plain list of codes) into a tenant's package, streaming it in batches. Every run is recorded
 * in wifi_import_logs: `running` first (its own transaction), then `completed` in the transaction
 * that adds the vouchers, or `rejected` / `failed` after that transaction rolled back. Usernames
 * the tenant already has are skipped, so importing a file again changes nothing.
 */
export async function importVouchers(deps: { db: Database; clock: Clock }, options: ImportVouchersOptions): Promise<VoucherImportReport> {
  const parsed = importVouchersInput.safeParse(options);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new AppError('VALIDATION_FAILED', `${issue.path.join('.') || 'input'}: ${issue.message}`);
  }
  const input = parsed.data;
  const { db, clock } = deps;
  const source = await openSource(input.file);
  try {
    const file = await openVoucherFile(source.stream);
    const detected = file.detected;
    const { packageId, importLogId } = await db.withTenant(input.tenantId, async (tx) => {
      const pkg = await findImportPackage(tx, input.tenantId, input.package);
      const [log] = await tx
        .insert(wifiImportLogs)
        .values({
          tenantId: input.tenantId,
          packageId: pkg.id,
          fileName: source.name,
          fileSha256: '', // known once the whole file is read
          format: detected.format,
          mode: input.mode,
          dryRun: input.dryRun,
          status: 'running',
          createdByUserId: input.createdByUserId,
        })
        .returning({ id: wifiImportLogs.id });
      return { packageId: pkg.id, importLogId: log!.id };
    });

    const run = new ImportRun(input, source.name, file, importLogId, source.totalBytes);
    const finish = (tx: Tx, status: 'completed' | 'rejected') => run.finish(tx, status, clock.now());
    try {
      if (detected.format === 'unknown') {
        for await (const rows of file.batches()) void rows; // for the file's hash
        run.fileRejection = detected.rejection;
        return await db.withTenant(input.tenantId, (tx) => finish(tx, 'rejected'));
      }
      return await db.withTenant(input.tenantId, async (tx) => {
        await run.readInto(tx, { tenantId: input.tenantId, packageId, importLogId });
        if (run.counts.rows === 0) {
          run.fileRejection = fileRejection('FILE_NO_ROWS');
          throw new RollBack();
        }
        if (input.mode === 'all_or_nothing' && run.counts.rejected > 0) throw new RollBack();
        return finish(tx, 'completed');
      });
    } catch (error) {
      if (error instanceof RollBack) {
        run.counts.imported = 0;
        return await db.withTenant(input.tenantId, (tx) => finish(tx, 'rejected'));
      }
      await markFailed(db, input.tenantId, importLogId, clock.now()).catch(() => {
        // The database may be what failed; the original error is the one to report.
      });
      throw error;
    }
  } finally {
    source.close();
  }
}

interface OpenedSource {
  stream: AsyncIterable<unknown>;
  name: string;
  totalBytes?: number;
  close(): void;
}

async function openSource(file: z.output<typeof importVouchersInput>['file']): Promise<OpenedSource> {
  if ('stream' in file) return { stream: file.stream, name: file.name, totalBytes: file.sizeBytes, close: () => {} };
  let size: number;
  try {
    const info = await stat(file.path);
    if (!info.isFile()) throw new AppError('VALIDATION_FAILED', `${file.path} is not a file`);
    size = info.size;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new AppError('NOT_FOUND', `file not found: ${file.path}`);
    if ((error as NodeJS.ErrnoException).code === 'EACCES') throw new AppError('FORBIDDEN', `cannot read ${file.path} (permission denied)`);
    throw error;
  }
  const stream = createReadStream(file.path, { highWaterMark: 64 * 1024 });
  return { stream, name: basename(file.path), totalBytes: size, close: () => stream.destroy() };
}

/** The counting state of one import, and how it ends up in the log. */
class ImportRun {
  readonly counts: VoucherImportCounts = { rows: 0, imported: 0, accepted: 0, duplicatesInFile: 0, duplicatesInStock: 0, alreadyUsed: 0, rejected: 0, ignoredLines: 0 };
  readonly rejectedRows: ReportedRejectedRow[] = [];
  fileRejection?: FileRejection;

  constructor(
    private readonly input: z.output<typeof importVouchersInput>,
    private readonly fileName: string,
    private readonly file: VoucherFile,
    private readonly importLogId: string,
    private readonly totalBytes: number | undefined,
  ) {}

  /** Reads every row; writes batches to the stock unless this run can no longer commit. */
  async readInto(tx: Tx, target: { tenantId: string; packageId: string; importLogId: string }): Promise<void> {
    const { counts, input } = this;
    const seen = new Set<string>();
    let batch: ImportedVoucher[] = [];
    // One batch is written while the next is read and checked: the database and the parser work
    // at the same time (the connection runs the statements in order).
    let writing: Promise<void> | undefined;
    const write = async (vouchers: ImportedVoucher[]) => {
      // Once an all-or-nothing run has a rejected row it will roll back: only count from then on.
      const inserting = !input.dryRun && !(input.mode === 'all_or_nothing' && counts.rejected > 0);
      const fresh = inserting
        ? await insertVoucherBatch(tx, target, vouchers)
        : vouchers.length - (await countVouchersInStock(tx, target.tenantId, vouchers.map((voucher) => voucher.username)));
      counts.accepted += fresh;
      if (inserting) counts.imported += fresh;
      counts.duplicatesInStock += vouchers.length - fresh;
      input.onProgress?.({ rowsProcessed: counts.rows, bytesRead: this.file.bytesRead, totalBytes: this.totalBytes });
    };
    const flush = async () => {
      await writing;
      writing = write(batch);
      writing.catch(() => {}); // awaited at the next flush; until then a failure must not go unhandled
      batch = [];
    };
    for await (const rows of this.file.batches()) {
      for (const row of rows) {
        counts.rows += 1;
        if (row.kind === 'already_used') {
          counts.alreadyUsed += 1;
        } else if (row.kind === 'rejected') {
          counts.rejected += 1;
          if (this.rejectedRows.length < REPORTED_REJECTED_ROWS) {
            this.rejectedRows.push({ line: row.line, code: row.rejection.code, ...(row.username ? { username: row.username } : {}), message: row.rejection.message });
          }
        } else if (seen.has(row.voucher.username)) {
          counts.duplicatesInFile += 1;
        } else {
          seen.add(row.voucher.username);
          batch.push(row.voucher);
          if (batch.length >= input.batchSize) await flush();
        }
      }
    }
    await flush();
    await writing;
  }

  async finish(tx: Tx, status: 'completed' | 'rejected', now: Date): Promise<VoucherImportReport> {
    const { counts, input, file } = this;
    counts.ignoredLines = file.ignoredLines;
    const report: VoucherImportReport = {
      importLogId: this.importLogId,
      status,
      format: file.detected.format,
      mode: input.mode,
      dryRun: input.dryRun,
      fileName: this.fileName,
      fileSha256: file.sha256(),
      bytesRead: file.bytesRead,
      counts: { ...counts },
      rejectedRows: this.rejectedRows,
      ...(this.fileRejection ? { fileRejection: this.fileRejection } : {}),
      summary: this.summary(status),
    };
    const { importLogId: _id, status: _status, fileName: _name, fileSha256: _sha, mode: _mode, dryRun: _dry, ...stored } = report;
    await tx
      .update(wifiImportLogs)
      .set({
        status,
        fileSha256: report.fileSha256,
        importedCount: counts.imported,
        duplicateCount: counts.duplicatesInFile + counts.duplicatesInStock,
        alreadyUsedCount: counts.alreadyUsed,
        rejectedCount: counts.rejected,
        report: { ...stored, ...encodingOf(file) },
        finishedAt: now,
      })
      .where(and(eq(wifiImportLogs.tenantId, input.tenantId), eq(wifiImportLogs.id, this.importLogId)));
    return report;
  }

  private summary(status: 'completed' | 'rejected'): BilingualText {
    if (this.fileRejection) return this.fileRejection.message;
    const c = this.counts;
    const duplicates = c.duplicatesInFile + c.duplicatesInStock;
    const details = {
      fr: `${fr(duplicates, 'doublon', 'doublons')} (${formatCount(c.duplicatesInFile, 'fr')} dans le fichier, ${formatCount(c.duplicatesInStock, 'fr')} déjà en stock), ${fr(c.alreadyUsed, 'déjà utilisé', 'déjà utilisés')}, ${fr(c.rejected, 'ligne rejetée', 'lignes rejetées')}.`,
      en: `${en(duplicates, 'duplicate', 'duplicates')} (${formatCount(c.duplicatesInFile, 'en')} in the file, ${formatCount(c.duplicatesInStock, 'en')} already in stock), ${formatCount(c.alreadyUsed, 'en')} already used, ${en(c.rejected, 'row', 'rows')} rejected.`,
    };
    if (status === 'rejected') {
      return {
        fr: `Rien n'a été importé : ${fr(c.rejected, 'ligne rejetée', 'lignes rejetées')} en mode tout ou rien. Corrigez-les, ou importez seulement les lignes valides (${fr(c.accepted, 'bon valide', 'bons valides')}).`,
        en: `Nothing was imported: ${en(c.rejected, 'row was', 'rows were')} rejected in all-or-nothing mode. Fix ${c.rejected === 1 ? 'it' : 'them'}, or import the valid rows only (${en(c.accepted, 'valid voucher', 'valid vouchers')}).`,
      };
    }
    if (this.input.dryRun) {
      return {
        fr: `Essai, rien n'a été écrit : ${fr(c.accepted, 'bon serait importé', 'bons seraient importés')} ; ${details.fr}`,
        en: `Dry run, nothing written: ${en(c.accepted, 'voucher would be imported', 'vouchers would be imported')}; ${details.en}`,
      };
    }
    return {
      fr: `${fr(c.imported, 'bon importé', 'bons importés')} ; ${details.fr}`,
      en: `${en(c.imported, 'voucher imported', 'vouchers imported')}; ${details.en}`,
    };
  }
}

/** French counts 0 and 1 as singular, English only 1. */
const fr = (count: number, one: string, many: string) => `${formatCount(count, 'fr')} ${count <= 1 ? one : many}`;
const en = (count: number, one: string, many: string) => `${formatCount(count, 'en')} ${count === 1 ? one : many}`;

function encodingOf(file: VoucherFile): Record<string, string> {
  const detected = file.detected;
  if (detected.format === 'unknown') return {};
  return { encoding: detected.encoding, ...(detected.format === 'mikhmon_csv' ? { delimiter: detected.delimiter } : {}) };
}

async function markFailed(db: Database, tenantId: string, importLogId: string, now: Date): Promise<void> {
  await db.withTenant(tenantId, (tx) =>
    tx
      .update(wifiImportLogs)
      .set({
        status: 'failed',
        finishedAt: now,
        report: {
          failure: {
            fr: "L'import s'est interrompu sur une erreur interne ; rien n'a été importé. Réessayez : les bons déjà en stock seront ignorés.",
            en: 'The import stopped on an internal error; nothing was imported. Try again: vouchers already in stock are skipped.',
          },
        },
      })
      .where(and(eq(wifiImportLogs.tenantId, tenantId), eq(wifiImportLogs.id, importLogId))),
  );
}
