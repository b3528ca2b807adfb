/**
 * Mobile Money collection and payout, as core needs it. The CamPay adapter implements it
 * (core/src/payments/campay/); amounts are whole XAF, phone numbers E.164 (+2376XXXXXXXX).
 */
export type GatewayTransactionStatus = 'PENDING' | 'SUCCESSFUL' | 'FAILED';
export type MobileOperator = 'MTN' | 'ORANGE';

export interface CollectRequest {
  amountXaf: number;
  /** E.164, e.g. +237670000000; the adapter converts to the provider's format. */
  payerPhone: string;
  description: string;
  /** Ours; unique per attempt. */
  externalReference: string;
}

export interface CollectResult {
  /** The gateway's transaction reference. */
  reference: string;
  /** What the payer dials to confirm (e.g. *126# for MTN). */
  ussdCode?: string;
  operator?: MobileOperator;
}

export interface GatewayTransaction {
  reference: string;
  status: GatewayTransactionStatus;
  amountXaf: number;
  currency: string;
  operator?: MobileOperator;
  externalReference?: string;
  /** Gateway's own code (e.g. CP...) and the operator's reference, for receipts and support. */
  code?: string;
  operatorReference?: string;
}

export interface WithdrawRequest {
  amountXaf: number;
  recipientPhone: string;
  description: string;
  externalReference: string;
}

export interface GatewayBalance {
  totalXaf: number;
  mtnXaf: number;
  orangeXaf: number;
  currency: string;
}

export interface PaymentGateway {
  collect(request: CollectRequest): Promise<CollectResult>;
  getTransaction(reference: string): Promise<GatewayTransaction>;
  withdraw(request: WithdrawRequest): Promise<{ reference: string; status: GatewayTransactionStatus }>;
  balance(): Promise<GatewayBalance>;
}
