import { and, asc, eq, gte, lt, sql } from 'drizzle-orm';
import { z } from 'zod';
import { payments, paymentSplits, tenants, type Database } from '@relais/db';
import { AppError, isAppError } from '../../shared/app-error.js';
import type { Clock } from '../../shared/ports/clock.js';
import type { FileStore } from '../../shared/ports/file-store.js';
import { addDaysToDate, BILLING_TIME_ZONE, localDate, localMonth, shortDate, startOfLocalDate, startOfMonth, startOfNextMonth } from '../subscriptions/billing-calendar.js';
import type { CommissionLineInput, PlatformSeller } from './invoice-document.js';
import { issueInvoice } from './issue-invoice.js';

const ONE_MS = 1;

export const issueCommissionStatementsInput = z.object({
  /** The Douala calendar month to state, YYYY-MM; default: the month before the current one. */
  month: z
    .string()
    .regex(/^\d{4}-(0[1-9]|1[0-2])$/, { message: 'month must be YYYY-MM' })
    .optional(),
});
export type IssueCommissionStatementsInput = z.input<typeof issueCommissionStatementsInput>;

export interface IssueCommissionStatementsDeps {
  db: Database;
  fileStore: FileStore;
  clock: Clock;
  /** The platform's legal details as printed; from configuration. */
  seller?: PlatformSeller;
  /** Called with the full error of a tenant that failed (the report keeps only a safe summary). */
  onError?: (error: unknown, tenantId: string) => void;
}

export interface StatementIssued {
  tenantId: string;
  slug: string;
  invoiceId: string;
  number: string;
  /** The commission invoiced (VAT included when the seller charges it). */
  amountXaf: number;
  grossXaf: number;
  paymentsCount: number;
  /** false: the statement already existed (an earlier run) and was left as it was. */
  created: boolean;
}

export interface CommissionStatementsReport {
  month: string;
  periodStart: string;
  periodEnd: string;
  issued: StatementIssued[];
  /** Commission-mode tenants without a successful customer payment in the month: no statement. */
  skipped: { tenantId: string; slug: string }[];
  failed: { tenantId: string; slug: string; error: { code: string; message: string } }[];
}

interface DayTotals {
  day: string;
  paymentsCount: number;
  grossXaf: number;
  commissionXaf: number;
}

/**
 * Issues the monthly commission statement of every commission-mode reseller that collected
 * customer payments in `month` (Africa/Douala calendar): one line per Douala day with the number
 * of successful customer payments completed that day, their gross amount, the platform fee the
 * ledger booked for them (platform_revenue lines of those payments, so the statement always equals
 * the ledger, whatever rounding or rate applied at the time) and the net left to the reseller.
 *
 * Statements are issued paid: the commission was kept at source when the payments were split.
 * Idempotent through issueInvoice (one statement per tenant and period start): running the month
 * again returns the existing statements unchanged. Only a month that is over can be stated — a
 * statement is frozen once issued, so stating a month in progress would miss its later payments.
 * One tenant's failure is reported and never stops the others.
 */
export async function issueCommissionStatements(
  deps: IssueCommissionStatementsDeps,
  options: IssueCommissionStatementsInput = {},
): Promise<CommissionStatementsReport> {
  const parsed = issueCommissionStatementsInput.safeParse(options);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new AppError('VALIDATION_FAILED', `${issue.path.join('.') || 'input'}: ${issue.message}`);
  }
  const now = deps.clock.now();
  const month = parsed.data.month ?? localMonth(new Date(startOfMonth(now).getTime() - ONE_MS));
  const periodStart = `${month}-01`;
  const start = startOfLocalDate(periodStart);
  const end = startOfNextMonth(start);
  const periodEnd = addDaysToDate(localDate(end), -1);
  if (end > now) {
    throw new AppError('VALIDATION_FAILED', `month ${month} is not over yet in ${BILLING_TIME_ZONE}; its statement can be issued from ${localDate(end)}`);
  }

  const report: CommissionStatementsReport = { month, periodStart, periodEnd, issued: [], skipped: [], failed: [] };
  const commissionTenants = await deps.db.withPlatform((tx) =>
    tx.select({ id: tenants.id, slug: tenants.slug }).from(tenants).where(eq(tenants.billingMode, 'commission')).orderBy(asc(tenants.createdAt), asc(tenants.slug)),
  );
  const daysByTenant = await collectedByTenantAndDay(deps.db, start, end);

  for (const tenant of commissionTenants) {
    const days = daysByTenant.get(tenant.id);
    if (!days) {
      report.skipped.push({ tenantId: tenant.id, slug: tenant.slug });
      continue;
    }
    try {
      const lines: CommissionLineInput[] = days.map((d) => ({
        description: shortDate(d.day),
        paymentsCount: d.paymentsCount,
        grossXaf: d.grossXaf,
        commissionXaf: d.commissionXaf,
      }));
      const { invoice, created } = await issueInvoice(
        { db: deps.db, fileStore: deps.fileStore, clock: deps.clock, ...(deps.seller ? { seller: deps.seller } : {}) },
        { tenantId: tenant.id, kind: 'commission_statement', periodStart, periodEnd, status: 'paid', lines },
      );
      report.issued.push({
        tenantId: tenant.id,
        slug: tenant.slug,
        invoiceId: invoice.id,
        number: invoice.number,
        amountXaf: invoice.amountXaf,
        grossXaf: days.reduce((total, d) => total + d.grossXaf, 0),
        paymentsCount: days.reduce((total, d) => total + d.paymentsCount, 0),
        created,
      });
    } catch (error) {
      deps.onError?.(error, tenant.id);
      report.failed.push({ tenantId: tenant.id, slug: tenant.slug, error: safeError(error) });
    }
  }
  return report;
}

/**
 * Successful customer payments of commission-mode tenants completed in [start, end), totalled per
 * tenant and Douala day, with the platform fee the ledger booked for them. One aggregate query
 * for all tenants: payment_splits has no index on payment_id, so a query per tenant would scan
 * the ledger once per tenant.
 */
async function collectedByTenantAndDay(db: Database, start: Date, end: Date): Promise<Map<string, DayTotals[]>> {
  const day = sql<string>`to_char(${payments.completedAt} at time zone ${BILLING_TIME_ZONE}, 'YYYY-MM-DD')`;
  const rows = await db.withPlatform((tx) => {
    // Fee per payment first, so a payment's several ledger lines never multiply its amount.
    const feePerPayment = tx.$with('fee_per_payment').as(
      tx
        .select({ paymentId: sql<string>`${paymentSplits.paymentId}`.as('payment_id'), feeXaf: sql<string>`-sum(${paymentSplits.amountXaf})`.as('fee_xaf') })
        .from(paymentSplits)
        .where(eq(paymentSplits.account, 'platform_revenue'))
        .groupBy(paymentSplits.paymentId),
    );
    return tx
      .with(feePerPayment)
      .select({
        tenantId: payments.tenantId,
        day: day.as('day'),
        paymentsCount: sql<number>`count(*)`.mapWith(Number),
        grossXaf: sql<number>`sum(${payments.amountXaf})`.mapWith(Number),
        commissionXaf: sql<number>`coalesce(sum(${feePerPayment.feeXaf}), 0)`.mapWith(Number),
      })
      .from(payments)
      .innerJoin(tenants, eq(tenants.id, payments.tenantId))
      .leftJoin(feePerPayment, eq(feePerPayment.paymentId, payments.id))
      .where(
        and(
          eq(tenants.billingMode, 'commission'),
          eq(payments.kind, 'customer_payment'),
          eq(payments.status, 'successful'),
          gte(payments.completedAt, start),
          lt(payments.completedAt, end),
        ),
      )
      .groupBy(payments.tenantId, sql`2`)
      .orderBy(payments.tenantId, sql`2`);
  });
  const byTenant = new Map<string, DayTotals[]>();
  for (const row of rows) {
    if (!row.tenantId) continue;
    const days = byTenant.get(row.tenantId) ?? [];
    days.push({ day: row.day, paymentsCount: row.paymentsCount, grossXaf: row.grossXaf, commissionXaf: row.commissionXaf });
    byTenant.set(row.tenantId, days);
  }
  return byTenant;
}

function safeError(error: unknown): { code: string; message: string } {
  if (isAppError(error)) return { code: error.code, message: error.httpStatus < 500 ? error.message : 'internal error (details in the log)' };
  return { code: 'INTERNAL', message: 'internal error (details in the log)' };
}
