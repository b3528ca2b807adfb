import { randomUUID } from 'node:crypto';
import { paymentSplits, type LEDGER_ACCOUNTS, type Tx } from '@relais/db';
import { AppError } from '../../shared/app-error.js';

export type LedgerAccount = (typeof LEDGER_ACCOUNTS)[number];

/** Debit positive, credit negative, whole XAF. tenantId names the wallet for tenant_wallet lines. */
export interface LedgerLine {
  account: LedgerAccount;
  amountXaf: number;
  tenantId?: string;
}

export interface JournalEntry {
  description: string;
  paymentId?: string;
  lines: LedgerLine[];
}

/**
 * Appends one balanced journal entry to the ledger, in the caller's transaction. The ledger is
 * append-only (the runtime role cannot update or delete it): corrections are new entries.
 */
export async function postJournalEntry(tx: Tx, entry: JournalEntry): Promise<string> {
  const { journalId, rows } = journalEntryRows(entry);
  await tx.insert(paymentSplits).values(rows);
  return journalId;
}

/** A ledger row as inserted (the columns the database does not fill in). */
export interface JournalRow {
  journalId: string;
  paymentId: string | undefined;
  account: LedgerAccount;
  tenantId: string | undefined;
  amountXaf: number;
  description: string;
}

/**
 * Checks an entry (balanced, whole XAF, wallets named) and returns its rows under a new journal
 * id, for callers that insert many entries in one statement.
 */
export function journalEntryRows(entry: JournalEntry): { journalId: string; rows: JournalRow[] } {
  const lines = entry.lines.filter((line) => line.amountXaf !== 0);
  if (lines.length < 2) throw new AppError('INTERNAL', `journal entry "${entry.description}" needs two non-zero lines`);
  for (const line of lines) {
    if (!Number.isSafeInteger(line.amountXaf)) throw new AppError('INTERNAL', `ledger amounts are whole XAF, got ${line.amountXaf}`);
    if ((line.account === 'tenant_wallet') !== Boolean(line.tenantId)) {
      throw new AppError('INTERNAL', 'a tenant_wallet line, and only it, names a tenant');
    }
  }
  const sum = lines.reduce((total, line) => total + line.amountXaf, 0);
  if (sum !== 0) throw new AppError('INTERNAL', `journal entry "${entry.description}" is unbalanced by ${sum} XAF`);

  const journalId = randomUUID();
  return {
    journalId,
    rows: lines.map((line) => ({
      journalId,
      paymentId: entry.paymentId,
      account: line.account,
      tenantId: line.tenantId,
      amountXaf: line.amountXaf,
      description: entry.description,
    })),
  };
}
