import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { z } from 'zod';
import { CallbackDispatcher, type CallbackDelivery } from './callback-dispatcher.js';
import {
  collectRequestSchema,
  faultsSchema,
  tokenRequestSchema,
  withdrawRequestSchema,
  type CampaySimulatorFaults,
  type FailNext,
} from './campay-sim-schemas.js';
import { signHs256Jwt } from './hs256-jwt.js';

/**
 * A CamPay API over real HTTP, following shared/INTEGRATIONS.md (not our client's convenience),
 * with knobs for the failures a client must survive.
 *
 * Callback signature: a JWT HS256 signed with the webhook key; claims (ours, CamPay's are not
 * documented): reference, external_reference, status, amount, currency, iat and, unless
 * `signatureTtlSeconds` is 0, exp = iat + signatureTtlSeconds.
 * No fees are taken: a successful collect credits the whole amount to the operator's balance.
 */

export type SimTransactionStatus = 'PENDING' | 'SUCCESSFUL' | 'FAILED';
export type SimOperator = 'MTN' | 'ORANGE';
export type Outcome = 'SUCCESSFUL' | 'FAILED';

export interface SimTransaction {
  reference: string;
  status: SimTransactionStatus;
  amount: number;
  currency: 'XAF';
  operator: SimOperator;
  /** CamPay's own code, CP... */
  code: string;
  operator_reference: string | null;
  external_reference: string | null;
  description: string;
  endpoint: 'COLLECT' | 'WITHDRAW';
  /** 237XXXXXXXXX: payer of a collect, recipient of a withdrawal. */
  phone: string;
  created_at: string;
}

export interface SimRequest {
  method: string;
  path: string;
  /** Set once answered; undefined while the simulator is still holding the request. */
  status?: number;
  at: string;
}

export interface CampaySimulatorOptions {
  port?: number;
  host?: string;
  /** Credentials accepted by POST /api/token/. */
  username?: string;
  password?: string;
  /** A permanent access token, accepted without logging in (CamPay's app keys). */
  permanentToken?: string;
  /** Random when absent. */
  webhookKey?: string;
  /** Lifetime of tokens from /api/token/ (default 3600). Fractions allowed, for quick tests. */
  tokenExpiresInSeconds?: number;
  callbackUrl?: string;
  callbackMethod?: 'GET' | 'POST';
  /** Resolve every new transaction after afterMs. Default: stay PENDING until approve/decline. */
  autoResolve?: { afterMs: number; outcome: Outcome | ((transaction: SimTransaction) => Outcome) };
  /** Starting balances for withdrawals, in XAF (default 0 each). */
  balance?: { mtn?: number; orange?: number };
  faults?: CampaySimulatorFaults;
  /** Send amounts and balances as strings ("500") instead of numbers: CamPay does both. */
  amountsAsStrings?: boolean;
  /** Where the ER code goes in an error body: an `error_code` field (default) or only inside `message`. */
  errorCodeIn?: 'field' | 'message';
  /** exp of the callback JWT, seconds after iat (default 600); 0 leaves exp out. */
  signatureTtlSeconds?: number;
}

export interface CampaySimulator {
  /** Base URL including /api, e.g. http://127.0.0.1:43210/api */
  url: string;
  port: number;
  webhookKey: string;
  credentials: { username: string; password: string; permanentToken: string };
  approve(reference: string): Promise<SimTransaction>;
  decline(reference: string): Promise<SimTransaction>;
  /** Merges into the faults in force (set a field to false/0/null to clear it). */
  setFaults(faults: CampaySimulatorFaults): void;
  /** /api requests received so far, oldest first (control endpoints excluded). */
  requests(): SimRequest[];
  transactions(): SimTransaction[];
  callbacks(): CallbackDelivery[];
  /** Sends held callbacks (reorder fault), newest first; resolves with how many. */
  flushCallbacks(): Promise<number>;
  /** Resolves once no callback delivery is under way. */
  settled(): Promise<void>;
  /** Makes every token issued so far invalid (as if CamPay revoked them early). */
  revokeTokens(): void;
  close(): Promise<void>;
}

class SimHttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
  ) {
    super(`CamPay simulator: HTTP ${status} ${JSON.stringify(body)}`);
  }
}

const MAX_BODY_BYTES = 1_000_000;
const MTN_PREFIXES = ['67', '650', '651', '652', '653', '654', '680', '681', '682', '683'];
const ORANGE_PREFIXES = ['69', '655', '656', '657', '658', '659', '686', '687'];
const USSD_CODES: Record<SimOperator, string> = { MTN: '*126#', ORANGE: '#150*50#' };

const randomCode = (prefix: string, length: number) => `${prefix}${randomBytes(length).toString('hex').slice(0, length).toUpperCase()}`;

function operatorOf(campayPhone: string): SimOperator | undefined {
  const national = campayPhone.slice(3);
  if (MTN_PREFIXES.some((prefix) => national.startsWith(prefix))) return 'MTN';
  if (ORANGE_PREFIXES.some((prefix) => national.startsWith(prefix))) return 'ORANGE';
  return undefined;
}

/** A whole, positive amount as CamPay accepts it ("500" or 500), else undefined. */
function wholeAmount(value: unknown): number | undefined {
  const text = typeof value === 'number' ? String(value) : typeof value === 'string' ? value.trim() : '';
  if (!/^\d+$/.test(text)) return undefined;
  const amount = Number(text);
  return Number.isSafeInteger(amount) && amount > 0 ? amount : undefined;
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new SimHttpError(413, { message: 'Request body too large' });
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

async function readJson<Schema extends z.ZodType>(request: IncomingMessage, schema: Schema): Promise<z.output<Schema>> {
  const text = await readBody(request);
  let json: unknown;
  try {
    json = text === '' ? {} : JSON.parse(text);
  } catch {
    throw new SimHttpError(400, { message: 'JSON parse error' });
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) throw new SimHttpError(400, { message: 'Invalid request body', issues: parsed.error.issues.map((issue) => issue.path.join('.')) });
  return parsed.data;
}

function send(response: ServerResponse, status: number, body: unknown): void {
  if (response.writableEnded || response.destroyed) return;
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  response.writeHead(status, { 'content-type': typeof body === 'string' ? 'text/html; charset=utf-8' : 'application/json' });
  response.end(text);
}

export async function startCampaySimulator(options: CampaySimulatorOptions = {}): Promise<CampaySimulator> {
  const credentials = {
    username: options.username ?? 'campay-sim',
    password: options.password ?? 'campay-sim-password',
    permanentToken: options.permanentToken ?? randomBytes(20).toString('hex'),
  };
  const webhookKey = options.webhookKey ?? randomBytes(24).toString('base64url');
  const tokenLifetimeMs = (options.tokenExpiresInSeconds ?? 3600) * 1000;
  const signatureTtlSeconds = options.signatureTtlSeconds ?? 600;
  let faults = faultsSchema.parse(options.faults ?? {});
  let failNextLeft = faults.failNext?.times ?? 0;

  const tokens = new Map<string, number>(); // token -> expiry (ms since epoch)
  const transactions = new Map<string, SimTransaction>();
  /** "COLLECT:ext-ref" -> the first transaction made with that external reference (collects are idempotent on it). */
  const byExternalReference = new Map<string, SimTransaction>();
  const balances: Record<SimOperator, number> = { MTN: options.balance?.mtn ?? 0, ORANGE: options.balance?.orange ?? 0 };
  const requestLog: SimRequest[] = [];
  const timers = new Set<NodeJS.Timeout>();
  const callbacks = new CallbackDispatcher(
    () => ({ url: options.callbackUrl, method: options.callbackMethod ?? 'GET' }),
    () => faults,
  );

  const amountOut = (amount: number) => (options.amountsAsStrings ? String(amount) : amount);

  function later(ms: number, run: () => void): void {
    const timer = setTimeout(() => {
      timers.delete(timer);
      run();
    }, ms);
    timers.add(timer);
  }

  const pause = (ms: number) => new Promise<void>((resolve) => later(ms, resolve));

  function campayError(status: number, code: string, message: string): SimHttpError {
    return new SimHttpError(status, options.errorCodeIn === 'message' ? { message: `${code}: ${message}` } : { message, error_code: code });
  }

  function transactionView(transaction: SimTransaction) {
    return {
      reference: transaction.reference,
      status: transaction.status,
      amount: amountOut(transaction.amount),
      currency: transaction.currency,
      operator: transaction.operator,
      code: transaction.code,
      operator_reference: transaction.operator_reference,
      external_reference: transaction.external_reference,
      description: transaction.description,
      endpoint: transaction.endpoint,
    };
  }

  function callbackParams(transaction: SimTransaction): Record<string, string> {
    const iat = Math.floor(Date.now() / 1000);
    const claims = {
      reference: transaction.reference,
      external_reference: transaction.external_reference,
      status: transaction.status,
      amount: String(transaction.amount),
      currency: transaction.currency,
      iat,
      ...(signatureTtlSeconds > 0 ? { exp: iat + signatureTtlSeconds } : {}),
    };
    return {
      status: transaction.status,
      reference: transaction.reference,
      amount: String(transaction.amount),
      currency: transaction.currency,
      operator: transaction.operator,
      code: transaction.code,
      operator_reference: transaction.operator_reference ?? '',
      signature: signHs256Jwt(claims, webhookKey),
      external_reference: transaction.external_reference ?? '',
      endpoint: transaction.endpoint.toLowerCase(),
    };
  }

  /** PENDING -> outcome, money moves, callback goes out. */
  function resolveTransaction(reference: string, outcome: Outcome): SimTransaction {
    const transaction = transactions.get(reference);
    if (!transaction) throw new SimHttpError(404, { message: 'Transaction not found' });
    if (transaction.status !== 'PENDING') throw new SimHttpError(409, { message: `Transaction is already ${transaction.status}` });
    transaction.status = outcome;
    if (outcome === 'SUCCESSFUL') {
      transaction.operator_reference = randomCode(transaction.operator === 'MTN' ? 'MP' : 'OM', 10);
      if (transaction.endpoint === 'COLLECT') balances[transaction.operator] += transaction.amount;
    } else if (transaction.endpoint === 'WITHDRAW') {
      balances[transaction.operator] += transaction.amount; // the reserved amount goes back
    }
    callbacks.dispatch(callbackParams(transaction));
    return { ...transaction };
  }

  function scheduleAutoResolve(transaction: SimTransaction): void {
    const rule = options.autoResolve;
    if (!rule) return;
    later(rule.afterMs, () => {
      if (transactions.get(transaction.reference)?.status !== 'PENDING') return;
      const outcome = typeof rule.outcome === 'function' ? rule.outcome({ ...transaction }) : rule.outcome;
      resolveTransaction(transaction.reference, outcome);
    });
  }

  function createTransaction(fields: Omit<SimTransaction, 'reference' | 'status' | 'code' | 'operator_reference' | 'created_at'>): SimTransaction {
    const transaction: SimTransaction = {
      ...fields,
      reference: randomUUID(),
      status: 'PENDING',
      code: randomCode('CP', 10),
      operator_reference: null,
      created_at: new Date().toISOString(),
    };
    transactions.set(transaction.reference, transaction);
    const externalKey = `${transaction.endpoint}:${transaction.external_reference}`;
    if (transaction.external_reference && !byExternalReference.has(externalKey)) byExternalReference.set(externalKey, transaction);
    scheduleAutoResolve(transaction);
    return transaction;
  }

  function findByExternalReference(endpoint: SimTransaction['endpoint'], externalReference: string | undefined): SimTransaction | undefined {
    if (!externalReference) return undefined;
    return byExternalReference.get(`${endpoint}:${externalReference}`);
  }

  function requireToken(request: IncomingMessage): void {
    const match = /^Token (\S+)$/.exec(request.headers.authorization ?? '');
    const token = match?.[1];
    if (token === credentials.permanentToken) return;
    const expiresAt = token ? tokens.get(token) : undefined;
    if (expiresAt === undefined || expiresAt <= Date.now()) throw new SimHttpError(401, { detail: 'Invalid token.' });
  }

  /** Checks of `from` / `to`, amount and currency, in the order CamPay reports them (ours: phone first). */
  function validatePayment(phone: unknown, amountValue: unknown, currency: string | undefined): { phone: string; operator: SimOperator; amount: number } {
    if (typeof phone !== 'string' || !/^237\d{9}$/.test(phone)) {
      throw campayError(400, 'ER101', 'Invalid phone number. The number must start with 237 followed by 9 digits.');
    }
    const operator = operatorOf(phone);
    if (!operator) throw campayError(400, 'ER102', 'This number is not supported. Only MTN and Orange numbers are supported.');
    const amount = wholeAmount(amountValue);
    if (amount === undefined) throw campayError(400, 'ER201', 'Invalid amount. Decimal amounts are not allowed.');
    if (currency !== undefined && currency !== 'XAF') throw new SimHttpError(400, { message: 'Invalid currency. Only XAF is supported.' });
    return { phone, operator, amount };
  }

  async function handleToken(request: IncomingMessage): Promise<unknown> {
    const body = await readJson(request, tokenRequestSchema);
    if (!body.username || !body.password) throw new SimHttpError(400, { non_field_errors: ['Must include "username" and "password".'] });
    if (body.username !== credentials.username || body.password !== credentials.password) {
      throw new SimHttpError(400, { non_field_errors: ['Unable to log in with provided credentials.'] });
    }
    const token = randomBytes(20).toString('hex');
    tokens.set(token, Date.now() + tokenLifetimeMs);
    return { token, expires_in: tokenLifetimeMs / 1000 };
  }

  async function handleCollect(request: IncomingMessage): Promise<unknown> {
    const body = await readJson(request, collectRequestSchema);
    const payment = validatePayment(body.from, body.amount, body.currency);
    // Idempotent on external_reference (unconfirmed for the real CamPay): same reference back.
    const existing = findByExternalReference('COLLECT', body.external_reference) ??
      createTransaction({
        amount: payment.amount,
        currency: 'XAF',
        operator: payment.operator,
        external_reference: body.external_reference ?? null,
        description: body.description ?? '',
        endpoint: 'COLLECT',
        phone: payment.phone,
      });
    return { reference: existing.reference, ussd_code: USSD_CODES[existing.operator], operator: existing.operator };
  }

  async function handleWithdraw(request: IncomingMessage): Promise<unknown> {
    const body = await readJson(request, withdrawRequestSchema);
    const payment = validatePayment(body.to, body.amount, body.currency);
    const existing = findByExternalReference('WITHDRAW', body.external_reference);
    if (existing) return { reference: existing.reference, status: existing.status };
    if (balances[payment.operator] < payment.amount) throw campayError(400, 'ER301', 'Insufficient balance.');
    balances[payment.operator] -= payment.amount; // reserved until the withdrawal resolves
    const transaction = createTransaction({
      amount: payment.amount,
      currency: 'XAF',
      operator: payment.operator,
      external_reference: body.external_reference ?? null,
      description: body.description ?? '',
      endpoint: 'WITHDRAW',
      phone: payment.phone,
    });
    return { reference: transaction.reference, status: transaction.status };
  }

  function handleTransaction(reference: string): unknown {
    const transaction = transactions.get(reference);
    if (!transaction) throw new SimHttpError(404, { message: 'Transaction not found.' });
    return transactionView(transaction);
  }

  function handleBalance(): unknown {
    return {
      total_balance: amountOut(balances.MTN + balances.ORANGE),
      mtn_balance: amountOut(balances.MTN),
      orange_balance: amountOut(balances.ORANGE),
      currency: 'XAF',
    };
  }

  /** Takes one injected failure if the request matches. */
  function takeFailNext(path: string): FailNext | undefined {
    const failNext = faults.failNext;
    if (!failNext || failNextLeft <= 0 || (failNext.path && !path.startsWith(failNext.path))) return undefined;
    failNextLeft -= 1;
    if (failNextLeft === 0) faults = { ...faults, failNext: null };
    return failNext;
  }

  async function routeApi(request: IncomingMessage, path: string): Promise<unknown> {
    const method = request.method ?? 'GET';
    if (method === 'POST' && path === '/api/token/') return handleToken(request);
    const transactionMatch = /^\/api\/transaction\/([^/]+)\/$/.exec(path);
    const known = (method === 'POST' && (path === '/api/collect/' || path === '/api/withdraw/')) || (method === 'GET' && (path === '/api/balance/' || transactionMatch));
    if (!known) throw new SimHttpError(404, { message: 'Not found.' });
    requireToken(request);
    if (path === '/api/collect/') return handleCollect(request);
    if (path === '/api/withdraw/') return handleWithdraw(request);
    if (path === '/api/balance/') return handleBalance();
    return handleTransaction(decodeURIComponent(transactionMatch![1]!));
  }

  async function handleApi(request: IncomingMessage, response: ServerResponse, path: string): Promise<void> {
    const entry: SimRequest = { method: request.method ?? 'GET', path, at: new Date().toISOString() };
    requestLog.push(entry);
    if (faults.latencyMs) await pause(faults.latencyMs);
    const injected = takeFailNext(path);
    let status = 200;
    let body: unknown;
    if (injected) {
      status = injected.status;
      body = injected.body ?? { message: 'Injected failure (simulator)' };
    } else {
      try {
        body = await routeApi(request, path);
      } catch (error) {
        if (!(error instanceof SimHttpError)) throw error;
        status = error.status;
        body = error.body;
      }
    }
    entry.status = status;
    send(response, status, body);
  }

  async function handleControl(request: IncomingMessage, response: ServerResponse, path: string): Promise<void> {
    const method = request.method ?? 'GET';
    const resolveMatch = /^\/_sim\/transactions\/([^/]+)\/(approve|decline)$/.exec(path);
    if (method === 'POST' && resolveMatch) {
      const outcome = resolveMatch[2] === 'approve' ? 'SUCCESSFUL' : 'FAILED';
      return send(response, 200, transactionView(resolveTransaction(decodeURIComponent(resolveMatch[1]!), outcome)));
    }
    if (method === 'GET' && path === '/_sim/transactions') return send(response, 200, [...transactions.values()]);
    if (method === 'GET' && path === '/_sim/requests') return send(response, 200, requestLog);
    if (method === 'GET' && path === '/_sim/callbacks') return send(response, 200, callbacks.deliveries());
    if (method === 'POST' && path === '/_sim/faults') {
      setFaults(await readJson(request, faultsSchema));
      return send(response, 200, faults);
    }
    if (method === 'POST' && path === '/_sim/callbacks/flush') return send(response, 200, { released: await callbacks.flush() });
    if (method === 'POST' && path === '/_sim/tokens/revoke') {
      tokens.clear();
      return send(response, 200, { revoked: true });
    }
    send(response, 404, { message: 'Unknown simulator control endpoint' });
  }

  function setFaults(update: CampaySimulatorFaults): void {
    const parsed = faultsSchema.parse(update);
    faults = { ...faults, ...parsed };
    if (parsed.failNext !== undefined) failNextLeft = parsed.failNext?.times ?? 0;
  }

  const server = createServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://sim').pathname;
    const handler = path.startsWith('/_sim/') ? handleControl : handleApi;
    handler(request, response, path).catch((error: unknown) => {
      if (error instanceof SimHttpError) return send(response, error.status, error.body);
      send(response, 500, { message: 'Simulator error', error: (error as Error).message });
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const hostForUrl = options.host && options.host !== '0.0.0.0' && options.host !== '::' ? options.host : '127.0.0.1';

  const resolveByCall = async (reference: string, outcome: Outcome) => resolveTransaction(reference, outcome);

  return {
    url: `http://${hostForUrl.includes(':') ? `[${hostForUrl}]` : hostForUrl}:${port}/api`,
    port,
    webhookKey,
    credentials,
    approve: (reference) => resolveByCall(reference, 'SUCCESSFUL'),
    decline: (reference) => resolveByCall(reference, 'FAILED'),
    setFaults,
    requests: () => requestLog.map((entry) => ({ ...entry })),
    transactions: () => [...transactions.values()].map((transaction) => ({ ...transaction })),
    callbacks: () => callbacks.deliveries(),
    flushCallbacks: () => callbacks.flush(),
    settled: () => callbacks.settled(),
    revokeTokens: () => tokens.clear(),
    async close() {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      callbacks.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
