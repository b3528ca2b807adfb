import type { PaymentGateway } from '../shared/ports/payment-gateway.js';

/** A set of gateway credentials: the platform's CamPay app, or a reseller's own. */
export interface GatewayApp {
  id: string;
  gateway: PaymentGateway;
  /** Key the gateway signs its callbacks with. */
  webhookKey: string;
}

/** Finds the client and webhook key for an app id ('platform' or a reseller app's id). */
export interface GatewayDirectory {
  get(appId: string): Promise<GatewayApp | undefined>;
}

export const PLATFORM_GATEWAY_APP_ID = 'platform';

/** Gateway transactions left PENDING this long count as failed (CamPay's own plugins use 5 minutes). */
export const PAYMENT_PENDING_TIMEOUT_MS = 5 * 60 * 1000;
