/** Names of the background jobs the payment use cases ask for (processors live in workers/). */
export const PAYMENT_JOBS = {
  /** Re-read one gateway transaction and settle it: `{ gatewayAppId, gatewayReference?, externalReference? }`. */
  confirm: 'payments.confirm',
  /** Poll pending payments that are due, expire stale ones: scheduled. */
  reconcile: 'payments.reconcile',
} as const;
