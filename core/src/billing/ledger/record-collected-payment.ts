import type { Tx } from '@relais/db';
import { postJournalEntry } from './post-journal-entry.js';
import { splitPayment } from './split-payment.js';

/**
 * Ledger entry for money a customer paid to a reseller through the platform's gateway: the
 * gateway holds the gross; in commission mode the platform earns its share and the reseller's
 * wallet the rest, in subscription mode the wallet gets everything.
 */
export async function recordCollectedPayment(
  tx: Tx,
  payment: { id: string; tenantId: string; amountXaf: number; billingMode: 'subscription' | 'commission'; commissionRateBps: number },
): Promise<{ platformFeeXaf: number; resellerXaf: number }> {
  const split =
    payment.billingMode === 'commission'
      ? splitPayment(payment.amountXaf, payment.commissionRateBps)
      : { platformFeeXaf: 0, resellerXaf: payment.amountXaf };
  await postJournalEntry(tx, {
    description: 'customer payment collected',
    paymentId: payment.id,
    lines: [
      { account: 'gateway_clearing', amountXaf: payment.amountXaf },
      { account: 'platform_revenue', amountXaf: -split.platformFeeXaf },
      { account: 'tenant_wallet', tenantId: payment.tenantId, amountXaf: -split.resellerXaf },
    ],
  });
  return split;
}
