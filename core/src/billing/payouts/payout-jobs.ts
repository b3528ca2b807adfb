/** Names of the background jobs of reseller payouts (processors live in workers/). */
export const PAYOUT_JOBS = {
  /** Settle pending payouts that are due (poll CamPay, re-send unanswered withdrawals): scheduled. */
  settleDue: 'payouts.settle-due',
} as const;
