import { and, eq, sql } from 'drizzle-orm';
import { paymentSplits, type Tx } from '@relais/db';

const total = sql<string>`coalesce(sum(${paymentSplits.amountXaf}), 0)`;

/** What the platform owes a reseller: the credit balance of its wallet, derived from entries. */
export async function walletBalance(tx: Tx, tenantId: string): Promise<number> {
  const [row] = await tx
    .select({ total })
    .from(paymentSplits)
    .where(and(eq(paymentSplits.account, 'tenant_wallet'), eq(paymentSplits.tenantId, tenantId)));
  return 0 - Number(row!.total); // not -Number(): an empty wallet is 0, not -0
}

/** The sum of every ledger line; zero whenever every entry was balanced. */
export async function ledgerTrialBalance(tx: Tx): Promise<number> {
  const [row] = await tx.select({ total }).from(paymentSplits);
  return Number(row!.total);
}

/** Balance of a platform account (debit positive): gateway clearing, payouts, platform revenue. */
export async function accountBalance(tx: Tx, account: 'platform_revenue' | 'gateway_clearing' | 'payouts'): Promise<number> {
  const [row] = await tx.select({ total }).from(paymentSplits).where(eq(paymentSplits.account, account));
  return Number(row!.total);
}
