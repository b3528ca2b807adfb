import type { z } from 'zod';
import { AppError, type AppErrorCode } from '../../shared/app-error.js';
import { errorBodySchema, type CampayErrorBody } from './campay-schemas.js';

/**
 * Turns CamPay failures into AppErrors. Messages say what to do; they never carry the token,
 * the password or CamPay's raw body. CamPay's own code and message go to `details` when they
 * contain none of our secrets.
 */

export type CampayOperation = 'login' | 'collect' | 'getTransaction' | 'withdraw' | 'balance';

const OPERATION_LABEL: Record<CampayOperation, string> = {
  login: 'login (POST /token/)',
  collect: 'collect (POST /collect/)',
  getTransaction: 'transaction status (GET /transaction/{reference}/)',
  withdraw: 'withdraw (POST /withdraw/)',
  balance: 'balance (GET /balance/)',
};

/** CamPay's documented codes and what they mean for us. */
export const CAMPAY_ERROR_CODES: Record<string, { code: AppErrorCode; message: string }> = {
  ER101: {
    code: 'PAYMENT_PHONE_INVALID',
    message: 'CamPay refused the phone number (ER101): it expects 237 followed by the 9-digit mobile number',
  },
  ER102: {
    code: 'PAYMENT_OPERATOR_UNSUPPORTED',
    message: 'CamPay refused the phone number (ER102): only MTN Mobile Money and Orange Money numbers are supported',
  },
  ER201: {
    code: 'PAYMENT_AMOUNT_INVALID',
    message: 'CamPay refused the amount (ER201): it must be a whole number of XAF within the account limits (demo accounts may be capped)',
  },
  ER301: {
    code: 'PAYMENT_INSUFFICIENT_FUNDS',
    message: 'CamPay refused the withdrawal (ER301): the CamPay account balance is too low; top it up or withdraw less',
  },
};

const MAX_DETAIL_LENGTH = 200;

function parseErrorBody(bodyText: string): CampayErrorBody {
  try {
    const parsed = errorBodySchema.safeParse(JSON.parse(bodyText));
    return parsed.success ? parsed.data : {};
  } catch {
    return {}; // not JSON (an HTML error page from a proxy, say): nothing we can read
  }
}

function findCampayCode(body: CampayErrorBody): string | undefined {
  for (const candidate of [body.error_code, body.code]) {
    if (candidate && /^ER\d{3}$/.test(candidate.trim())) return candidate.trim();
  }
  return body.message?.match(/\bER\d{3}\b/)?.[0];
}

/** CamPay's human message, or undefined when it is missing or would leak one of our secrets. */
function safeCampayMessage(body: CampayErrorBody, secrets: readonly string[]): string | undefined {
  const text = body.message ?? body.detail ?? body.non_field_errors?.join('; ');
  if (!text) return undefined;
  if (secrets.some((secret) => secret.length > 0 && text.includes(secret))) return undefined;
  // eslint-disable-next-line no-control-regex -- stripping control characters is the point
  const clean = text.replace(/[\u0000-\u001f\u007f]/g, ' ').trim();
  return clean.length > MAX_DETAIL_LENGTH ? `${clean.slice(0, MAX_DETAIL_LENGTH)}…` : clean;
}

/** A non-2xx answer from CamPay. */
export function campayErrorFromResponse(input: {
  operation: CampayOperation;
  status: number;
  bodyText: string;
  host: string;
  secrets: readonly string[];
}): AppError {
  const { operation, status, host } = input;
  const body = parseErrorBody(input.bodyText);
  const campayCode = findCampayCode(body);
  const campayMessage = safeCampayMessage(body, input.secrets);
  const details: Record<string, unknown> = { operation, httpStatus: status };
  if (campayCode) details.campayCode = campayCode;
  if (campayMessage) details.campayMessage = campayMessage;
  const label = OPERATION_LABEL[operation];

  const known = campayCode ? CAMPAY_ERROR_CODES[campayCode] : undefined;
  if (known) return new AppError(known.code, known.message, { details });

  // A 4xx from the token endpoint is about our credentials whatever its shape.
  const loginRefused = operation === 'login' && status >= 400 && status < 500 && status !== 429;
  if (status === 401 || body.non_field_errors || loginRefused) {
    return new AppError(
      'GATEWAY_AUTH_FAILED',
      `CamPay (${host}) refused our credentials on ${label}: check the CamPay username and password or access token of this account, and that they belong to this environment (demo credentials only work on demo.campay.net)`,
      { details },
    );
  }
  // 429: CamPay asks us to slow down, which is worth retrying later like an outage.
  if (status >= 500 || status === 429) {
    return new AppError('DEPENDENCY_UNAVAILABLE', `CamPay (${host}) is unavailable: HTTP ${status} on ${label}; retry later`, { details });
  }
  return new AppError(
    'GATEWAY_REJECTED',
    `CamPay (${host}) rejected ${label} with HTTP ${status}${campayCode ? ` (${campayCode})` : ''}; see details.campayMessage`,
    { details },
  );
}

/** No answer at all: a timeout, a refused connection, a DNS failure. */
export function campayErrorFromTransport(input: { operation: CampayOperation; error: unknown; timeoutMs: number; host: string }): AppError {
  const { operation, error, timeoutMs, host } = input;
  const label = OPERATION_LABEL[operation];
  const name = (error as { name?: string } | undefined)?.name;
  if (name === 'TimeoutError' || name === 'AbortError') {
    return new AppError(
      'DEPENDENCY_UNAVAILABLE',
      `CamPay (${host}) did not answer ${label} within ${timeoutMs} ms; retry later with the same external reference`,
      { details: { operation, timeoutMs }, cause: error },
    );
  }
  // node:http puts the system's code on the error itself (fetch put it on its cause).
  const { code, cause } = (error ?? {}) as { code?: unknown; cause?: { code?: unknown } };
  const networkCode = typeof code === 'string' ? code : typeof cause?.code === 'string' ? cause.code : undefined;
  return new AppError(
    'DEPENDENCY_UNAVAILABLE',
    `Could not reach CamPay (${host}) for ${label}${networkCode ? ` (${networkCode})` : ''}; check the network and the CamPay base URL, then retry`,
    { details: { operation, ...(networkCode ? { networkCode } : {}) }, cause: error },
  );
}

/** A 2xx answer whose body is not what the contract says. */
export function campayUnexpectedBody(input: { operation: CampayOperation; status: number; host: string; issues?: z.core.$ZodIssue[] }): AppError {
  const fields = [...new Set((input.issues ?? []).map((issue) => issue.path.join('.') || '(body)'))];
  return new AppError(
    'GATEWAY_REJECTED',
    `CamPay (${input.host}) answered ${OPERATION_LABEL[input.operation]} with a body we cannot read${fields.length ? ` (fields: ${fields.join(', ')})` : ' (not JSON)'}; its API may have changed`,
    { details: { operation: input.operation, httpStatus: input.status, fields } },
  );
}
