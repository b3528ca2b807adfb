/**
 * Codes the domain raises. Each transport maps them: HTTP status, chat reply, CLI exit message,
 * non-retryable job failure. Add codes here, never ad-hoc strings at the throw site.
 */
export const APP_ERROR_CODES = {
  VALIDATION_FAILED: { httpStatus: 400, retryable: false },
  NOT_FOUND: { httpStatus: 404, retryable: false },
  CONFLICT: { httpStatus: 409, retryable: false },
  FORBIDDEN: { httpStatus: 403, retryable: false },
  UNAUTHENTICATED: { httpStatus: 401, retryable: false },
  PLAN_LIMIT_REACHED: { httpStatus: 402, retryable: false },
  DEPENDENCY_UNAVAILABLE: { httpStatus: 503, retryable: true },
  /** Not a Cameroonian mobile number, or not in a form we can read. */
  PAYMENT_PHONE_INVALID: { httpStatus: 400, retryable: false },
  /** A valid number on a network the gateway does not collect from (only MTN and Orange). */
  PAYMENT_OPERATOR_UNSUPPORTED: { httpStatus: 400, retryable: false },
  /** Not a whole, positive number of XAF, or outside what the gateway accepts. */
  PAYMENT_AMOUNT_INVALID: { httpStatus: 400, retryable: false },
  /** The payer's or the platform's account cannot cover the amount. */
  PAYMENT_INSUFFICIENT_FUNDS: { httpStatus: 402, retryable: false },
  /** A ticket may be paid in at most three attempts. */
  PAYMENT_RETRIES_EXHAUSTED: { httpStatus: 409, retryable: false },
  /** The gateway refused our credentials: a configuration problem, not the customer's. */
  GATEWAY_AUTH_FAILED: { httpStatus: 502, retryable: false },
  /** The gateway answered with an error we cannot act on automatically. */
  GATEWAY_REJECTED: { httpStatus: 502, retryable: false },
  /** The router did not answer (host down, port closed, timeout, connection dropped). */
  ROUTER_UNREACHABLE: { httpStatus: 502, retryable: true },
  /** The router refused the API user name or password. */
  ROUTER_AUTH_FAILED: { httpStatus: 502, retryable: false },
  /** The router answered a command with an error (!trap): duplicate user, unknown profile... */
  ROUTER_COMMAND_FAILED: { httpStatus: 502, retryable: false },
  /** No voucher left for a package and none can be generated. */
  VOUCHER_OUT_OF_STOCK: { httpStatus: 409, retryable: false },
  /** A file refused as an attachment (empty, too large, type not allowed): details.reason. */
  ATTACHMENT_REJECTED: { httpStatus: 422, retryable: false },
  INTERNAL: { httpStatus: 500, retryable: true },
} as const;

export type AppErrorCode = keyof typeof APP_ERROR_CODES;

export class AppError extends Error {
  override name = 'AppError';
  readonly code: AppErrorCode;
  /** Safe to show to the person who caused it (no internals, no secrets). */
  readonly details?: Record<string, unknown>;

  constructor(code: AppErrorCode, message: string, options: { details?: Record<string, unknown>; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.code = code;
    this.details = options.details;
  }

  get httpStatus(): number {
    return APP_ERROR_CODES[this.code].httpStatus;
  }

  get retryable(): boolean {
    return APP_ERROR_CODES[this.code].retryable;
  }
}

export const isAppError = (error: unknown): error is AppError => error instanceof AppError;
