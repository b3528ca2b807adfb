import type { Tx } from '@relais/db';
import { postJournalEntry, type JournalEntry } from './post-journal-entry.js';
import { splitPayment, type PaymentSplit } from './split-payment.js';

export interface CollectedPayment {
  id: string;
  tenantId: string;
  amountXaf: number;
  billingMode: 'subscription' | 'commission';
  commissionRateBps: number;
}

/**
 * Ledger entry for money a customer paid to a reseller through the platform's gateway: the
 * gateway holds the gross; in commission mode the platform earns its share and the reseller's
 * wallet the rest, in subscription mode the wallet gets everything.
 */
export async function recordCollectedPayment(tx: Tx, payment: CollectedPayment): Promise<PaymentSplit> {
  const { split, entry } = collectedPaymentEntry(payment);
  await postJournalEntry(tx, entry);
  return split;
}

/** The split and the journal entry recordCollectedPayment posts, for callers posting many at once. */
export function collectedPaymentEntry(payment: CollectedPayment): { split: PaymentSplit; entry: JournalEntry } {
  const split =
    payment.billingMode === 'commission'
      ? splitPayment(payment.amountXaf, payment.commissionRateBps)
      : { platformFeeXaf: 0, resellerXaf: payment.amountXaf };
  return {
    split,
    entry: {
      description: 'customer payment collected',
      paymentId: payment.id,
      lines: [
        { account: 'gateway_clearing', amountXaf: payment.amountXaf },
        { account: 'platform_revenue', amountXaf: -split.platformFeeXaf },
        { account: 'tenant_wallet', tenantId: payment.tenantId, amountXaf: -split.resellerXaf },
      ],
    },
  };
}
