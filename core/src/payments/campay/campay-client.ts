import type { z } from 'zod';
import { AppError } from '../../shared/app-error.js';
import { HttpBodyTooLargeError, httpExchange, keepAliveAgents } from '../../shared/http-exchange.js';
import { systemClock, type Clock } from '../../shared/ports/clock.js';
import type {
  CollectRequest,
  CollectResult,
  GatewayBalance,
  GatewayTransaction,
  GatewayTransactionStatus,
  PaymentGateway,
  WithdrawRequest,
} from '../../shared/ports/payment-gateway.js';
import { parseCameroonMobile } from '../cameroon-msisdn.js';
import { campayErrorFromResponse, campayErrorFromTransport, campayUnexpectedBody, type CampayOperation } from './campay-errors.js';
import {
  balanceResponseSchema,
  collectResponseSchema,
  tokenResponseSchema,
  transactionResponseSchema,
  withdrawResponseSchema,
} from './campay-schemas.js';

export type CampayCredentials = { kind: 'token'; token: string } | { kind: 'login'; username: string; password: string };

export interface CampayClientOptions {
  /** e.g. https://demo.campay.net/api (demo) or https://www.campay.net/api (live). */
  baseUrl: string;
  credentials: CampayCredentials;
  /** Per HTTP request, body included. */
  timeoutMs?: number;
  clock?: Clock;
}

const DEFAULT_TIMEOUT_MS = 15_000;
/** Log in again when the token has less than this left, so no call starts with a dying token. */
const TOKEN_REFRESH_MARGIN_MS = 60_000;
/** CamPay's answers are a few hundred bytes; anything near this is not CamPay. */
const MAX_ANSWER_BYTES = 1024 * 1024;
/** How many recently used tokens we keep to scrub them from error details. */
const REMEMBERED_TOKENS = 4;

interface HttpAnswer {
  status: number;
  bodyText: string;
  /** CamPay's host, named in error messages so the operator sees demo vs live. */
  host: string;
}

type Send = (operation: CampayOperation, method: 'GET' | 'POST', path: string, token: string | undefined, body?: unknown) => Promise<HttpAnswer>;

interface TokenSource {
  token(): Promise<string>;
  /** Forget `token` (CamPay answered 401 to it); false when there is no way to get another. */
  invalidate(token: string): boolean;
  /** Strings that must never appear in an error. */
  secrets(): string[];
}

function staticTokenSource(token: string): TokenSource {
  return { token: async () => token, invalidate: () => false, secrets: () => [token] };
}

/**
 * Logs in with POST /token/ and caches the token. Refresh rule: a cached token is used until it
 * has less than 60 s left (or less than half its lifetime, for tokens shorter than 2 minutes),
 * measured from when the login started. Concurrent callers share one login in flight.
 */
function loginTokenSource(credentials: { username: string; password: string }, send: Send, clock: Clock): TokenSource {
  let cached: { token: string; refreshAtMs: number } | undefined;
  let inFlight: Promise<string> | undefined;
  const recentTokens: string[] = [];

  async function login(): Promise<string> {
    const startedAtMs = clock.now().getTime();
    const answer = await send('login', 'POST', '/token/', undefined, { username: credentials.username, password: credentials.password });
    const body = parseAnswer('login', answer, tokenResponseSchema, () => [credentials.password, ...recentTokens]);
    const lifetimeMs = body.expires_in * 1000;
    cached = { token: body.token, refreshAtMs: startedAtMs + lifetimeMs - Math.min(TOKEN_REFRESH_MARGIN_MS, lifetimeMs / 2) };
    recentTokens.unshift(body.token);
    recentTokens.length = Math.min(recentTokens.length, REMEMBERED_TOKENS);
    return body.token;
  }

  return {
    async token() {
      if (cached && clock.now().getTime() < cached.refreshAtMs) return cached.token;
      inFlight ??= login().finally(() => {
        inFlight = undefined;
      });
      return inFlight;
    },
    invalidate(token) {
      if (cached?.token === token) cached = undefined;
      return true;
    },
    secrets: () => [credentials.password, ...recentTokens],
  };
}

function hostOf(baseUrl: string): string {
  const url = URL.canParse(baseUrl) ? new URL(baseUrl) : undefined;
  if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:')) {
    throw new TypeError('The CamPay base URL must be an absolute http(s) URL such as https://demo.campay.net/api');
  }
  return url.host;
}

function parseAnswer<Schema extends z.ZodType>(
  operation: CampayOperation,
  answer: HttpAnswer,
  schema: Schema,
  secrets: () => readonly string[],
): z.output<Schema> {
  const { host } = answer;
  if (answer.status < 200 || answer.status > 299) {
    throw campayErrorFromResponse({ operation, status: answer.status, bodyText: answer.bodyText, host, secrets: secrets() });
  }
  let json: unknown;
  try {
    json = JSON.parse(answer.bodyText);
  } catch {
    throw campayUnexpectedBody({ operation, status: answer.status, host });
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) throw campayUnexpectedBody({ operation, status: answer.status, host, issues: parsed.error.issues });
  return parsed.data;
}

function assertWholePositiveXaf(amountXaf: number): void {
  if (!Number.isSafeInteger(amountXaf) || amountXaf <= 0) {
    throw new AppError('PAYMENT_AMOUNT_INVALID', `The amount must be a whole, positive number of XAF (got ${String(amountXaf)})`, {
      details: { amountXaf },
    });
  }
}

function assertReference(reference: string): void {
  if (typeof reference !== 'string' || reference.trim() === '' || reference.length > 200) {
    throw new AppError('VALIDATION_FAILED', 'A CamPay transaction reference must be a non-empty string of at most 200 characters');
  }
}

/** The PaymentGateway port over CamPay's HTTP API (shared/INTEGRATIONS.md, CamPay section). */
export function createCampayClient(options: CampayClientOptions): PaymentGateway {
  const baseUrl = options.baseUrl.replace(/\/+$/, '');
  const host = hostOf(baseUrl);
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const clock = options.clock ?? systemClock;
  // Every confirmation re-reads its transaction: connections stay open between calls.
  const agents = keepAliveAgents();

  const send: Send = async (operation, method, path, token, body) => {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (token !== undefined) headers.authorization = `Token ${token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    try {
      // The timeout covers reading the body too: a server that stalls mid-body also times out.
      const answer = await httpExchange(`${baseUrl}${path}`, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        timeoutMs,
        agents,
        maxBodyBytes: MAX_ANSWER_BYTES,
      });
      return { ...answer, host };
    } catch (error) {
      if (error instanceof HttpBodyTooLargeError) throw campayUnexpectedBody({ operation, status: 0, host });
      throw campayErrorFromTransport({ operation, error, timeoutMs, host });
    }
  };

  const tokens =
    options.credentials.kind === 'token' ? staticTokenSource(options.credentials.token) : loginTokenSource(options.credentials, send, clock);

  /** One API call; on a 401, log in again once and retry once (the token may have been revoked early). */
  async function call<Schema extends z.ZodType>(
    operation: CampayOperation,
    method: 'GET' | 'POST',
    path: string,
    schema: Schema,
    body?: unknown,
  ): Promise<z.output<Schema>> {
    const token = await tokens.token();
    let answer = await send(operation, method, path, token, body);
    if (answer.status === 401 && tokens.invalidate(token)) {
      answer = await send(operation, method, path, await tokens.token(), body);
    }
    return parseAnswer(operation, answer, schema, () => tokens.secrets());
  }

  return {
    async collect(request: CollectRequest): Promise<CollectResult> {
      assertWholePositiveXaf(request.amountXaf);
      const payer = parseCameroonMobile(request.payerPhone);
      const body = await call('collect', 'POST', '/collect/', collectResponseSchema, {
        amount: String(request.amountXaf),
        currency: 'XAF',
        from: payer.campay,
        description: request.description,
        external_reference: request.externalReference,
      });
      return { reference: body.reference, ussdCode: body.ussd_code, operator: body.operator ?? payer.operator };
    },

    async getTransaction(reference: string): Promise<GatewayTransaction> {
      assertReference(reference);
      const body = await call('getTransaction', 'GET', `/transaction/${encodeURIComponent(reference)}/`, transactionResponseSchema);
      return {
        reference: body.reference,
        status: body.status,
        amountXaf: body.amount,
        currency: body.currency,
        operator: body.operator,
        externalReference: body.external_reference,
        code: body.code,
        operatorReference: body.operator_reference,
      };
    },

    async withdraw(request: WithdrawRequest): Promise<{ reference: string; status: GatewayTransactionStatus }> {
      assertWholePositiveXaf(request.amountXaf);
      const recipient = parseCameroonMobile(request.recipientPhone);
      const body = await call('withdraw', 'POST', '/withdraw/', withdrawResponseSchema, {
        amount: String(request.amountXaf),
        to: recipient.campay,
        description: request.description,
        external_reference: request.externalReference,
      });
      return { reference: body.reference, status: body.status };
    },

    async balance(): Promise<GatewayBalance> {
      const body = await call('balance', 'GET', '/balance/', balanceResponseSchema);
      return { totalXaf: body.total_balance, mtnXaf: body.mtn_balance, orangeXaf: body.orange_balance, currency: body.currency };
    },
  };
}
