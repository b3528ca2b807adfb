import { afterEach, describe, expect, it } from 'vitest';
import { startCampaySimulator, type CampaySimulator, type CampaySimulatorOptions } from '@relais/sim';
import { AppError, isAppError } from '../src/shared/app-error.js';
import type { PaymentGateway } from '../src/shared/ports/payment-gateway.js';
import { createCampayClient, type CampayClientOptions } from '../src/payments/campay/campay-client.js';

// Every test talks to the CamPay simulator over real HTTP with the real client: nothing is mocked.

const USERNAME = 'relais-app';
const PASSWORD = 'pa55-Wörd-never-shown';

const simulators: CampaySimulator[] = [];
afterEach(async () => {
  while (simulators.length > 0) await simulators.pop()!.close();
});

async function simulator(options: CampaySimulatorOptions = {}): Promise<CampaySimulator> {
  const sim = await startCampaySimulator({ username: USERNAME, password: PASSWORD, ...options });
  simulators.push(sim);
  return sim;
}

function client(sim: CampaySimulator, overrides: Partial<CampayClientOptions> = {}): PaymentGateway {
  return createCampayClient({ baseUrl: sim.url, credentials: { kind: 'login', username: USERNAME, password: PASSWORD }, ...overrides });
}

const tokenRequests = (sim: CampaySimulator) => sim.requests().filter((request) => request.path === '/api/token/').length;
const apiRequests = (sim: CampaySimulator) => sim.requests().filter((request) => request.path !== '/api/token/');

async function rejection(promise: Promise<unknown>): Promise<AppError> {
  try {
    await promise;
  } catch (error) {
    if (isAppError(error)) return error;
    throw error;
  }
  throw new Error('expected the call to fail');
}

/** Nothing a CamPay error exposes may carry a credential. */
function expectNoSecrets(error: AppError, secrets: string[]): void {
  const exposed = [error.message, JSON.stringify(error.details ?? {}), String(error), JSON.stringify(error)].join('\n');
  for (const secret of secrets) expect(exposed).not.toContain(secret);
}

const collectRequest = (overrides: Partial<Parameters<PaymentGateway['collect']>[0]> = {}) => ({
  amountXaf: 500,
  payerPhone: '+237 6 70 00 00 00',
  description: 'WiFi 1 jour',
  externalReference: `pay-${Math.random().toString(36).slice(2)}`,
  ...overrides,
});

describe('CamPay client: the four operations', () => {
  it('collects, reads the transaction back, withdraws and reads the balance', async () => {
    const sim = await simulator({ balance: { mtn: 10_000, orange: 0 } });
    const gateway = client(sim);

    const request = collectRequest({ payerPhone: '699 12 34 56' });
    const collected = await gateway.collect(request);
    expect(collected).toEqual({ reference: expect.any(String), ussdCode: '#150*50#', operator: 'ORANGE' });
    expect(sim.transactions()[0]).toMatchObject({ phone: '237699123456', amount: 500, description: 'WiFi 1 jour', external_reference: request.externalReference });

    expect(await gateway.getTransaction(collected.reference)).toEqual({
      reference: collected.reference,
      status: 'PENDING',
      amountXaf: 500,
      currency: 'XAF',
      operator: 'ORANGE',
      externalReference: request.externalReference,
      code: expect.stringMatching(/^CP/),
      operatorReference: undefined,
    });
    await sim.approve(collected.reference);
    expect(await gateway.getTransaction(collected.reference)).toMatchObject({ status: 'SUCCESSFUL', operatorReference: expect.stringMatching(/^OM/) });

    const payout = await gateway.withdraw({ amountXaf: 2500, recipientPhone: '+237670000000', description: 'payout', externalReference: 'w-1' });
    expect(payout).toEqual({ reference: expect.any(String), status: 'PENDING' });
    expect(await gateway.balance()).toEqual({ totalXaf: 8000, mtnXaf: 7500, orangeXaf: 500, currency: 'XAF' });
  });

  it('reads amounts sent as strings as whole numbers', async () => {
    const sim = await simulator({ amountsAsStrings: true, balance: { mtn: 1200, orange: 300 } });
    const gateway = client(sim);
    const { reference } = await gateway.collect(collectRequest({ amountXaf: 750 }));
    expect((await gateway.getTransaction(reference)).amountXaf).toBe(750);
    expect(await gateway.balance()).toEqual({ totalXaf: 1500, mtnXaf: 1200, orangeXaf: 300, currency: 'XAF' });
  });

  it('gets the same reference back when a collect is repeated with the same external reference', async () => {
    const sim = await simulator();
    const gateway = client(sim);
    const request = collectRequest();
    expect((await gateway.collect(request)).reference).toBe((await gateway.collect(request)).reference);
  });

  it('works with a permanent access token, without logging in', async () => {
    const sim = await simulator({ permanentToken: 'permanent-app-token' });
    const gateway = createCampayClient({ baseUrl: `${sim.url}/`, credentials: { kind: 'token', token: 'permanent-app-token' } });
    expect((await gateway.balance()).currency).toBe('XAF');
    expect(tokenRequests(sim)).toBe(0);
  });
});

describe('CamPay client: token handling', () => {
  it('logs in once and reuses the token, even for concurrent first calls', async () => {
    const sim = await simulator();
    const gateway = client(sim);
    await Promise.all(Array.from({ length: 5 }, () => gateway.balance()));
    await gateway.balance();
    await gateway.collect(collectRequest());
    expect(tokenRequests(sim)).toBe(1);
    expect(apiRequests(sim)).toHaveLength(7);
  });

  it('logs in again once less than 60 s of the token are left', async () => {
    const sim = await simulator({ tokenExpiresInSeconds: 3600 });
    let nowMs = Date.parse('2025-01-01T08:00:00Z');
    const gateway = client(sim, { clock: { now: () => new Date(nowMs) } });
    await gateway.balance();
    nowMs += (3600 - 61) * 1000;
    await gateway.balance();
    expect(tokenRequests(sim)).toBe(1);
    nowMs += 2000; // 59 s left
    await gateway.balance();
    expect(tokenRequests(sim)).toBe(2);
    await gateway.balance();
    expect(tokenRequests(sim)).toBe(2);
  });

  it('refreshes short-lived tokens before CamPay would refuse them', async () => {
    const sim = await simulator({ tokenExpiresInSeconds: 1 });
    const gateway = client(sim);
    await gateway.balance();
    await gateway.balance();
    expect(tokenRequests(sim)).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    await gateway.balance();
    expect(tokenRequests(sim)).toBe(2);
    expect(sim.requests().filter((request) => request.status === 401)).toHaveLength(0);
  });

  it('on a 401, logs in again once and retries the call once', async () => {
    const sim = await simulator();
    const gateway = client(sim);
    await gateway.balance();
    sim.revokeTokens(); // CamPay dropped the token before its announced expiry
    expect((await gateway.balance()).currency).toBe('XAF');
    expect(sim.requests().map((request) => [request.path, request.status])).toEqual([
      ['/api/token/', 200],
      ['/api/balance/', 200],
      ['/api/balance/', 401],
      ['/api/token/', 200],
      ['/api/balance/', 200],
    ]);
  });

  it('gives up with GATEWAY_AUTH_FAILED when the retried call is refused again', async () => {
    const sim = await simulator();
    const gateway = client(sim);
    sim.setFaults({ failNext: { status: 401, body: { detail: 'Invalid token.' }, times: 3, path: '/api/balance/' } });
    const error = await rejection(gateway.balance());
    expect(error.code).toBe('GATEWAY_AUTH_FAILED');
    expect(tokenRequests(sim)).toBe(2);
    expect(apiRequests(sim)).toHaveLength(2);
  });

  it('does not retry a refused permanent token: there is no other to try', async () => {
    const sim = await simulator();
    const gateway = createCampayClient({ baseUrl: sim.url, credentials: { kind: 'token', token: 'revoked-token-123' } });
    const error = await rejection(gateway.balance());
    expect(error.code).toBe('GATEWAY_AUTH_FAILED');
    expect(error.message).toMatch(/access token/);
    expect(sim.requests()).toHaveLength(1);
    expectNoSecrets(error, ['revoked-token-123']);
  });

  it('reports wrong login credentials as GATEWAY_AUTH_FAILED without showing them', async () => {
    const sim = await simulator();
    const gateway = createCampayClient({ baseUrl: sim.url, credentials: { kind: 'login', username: USERNAME, password: 'wrong-password-42' } });
    const error = await rejection(gateway.balance());
    expect(error).toMatchObject({ code: 'GATEWAY_AUTH_FAILED', retryable: false });
    expect(error.details).toMatchObject({ operation: 'login', httpStatus: 400, campayMessage: 'Unable to log in with provided credentials.' });
    expectNoSecrets(error, ['wrong-password-42', PASSWORD]);
    // A failed login is not cached: the next call tries again.
    await rejection(gateway.balance());
    expect(tokenRequests(sim)).toBe(2);
  });

  it('treats any 4xx from the token endpoint as a credentials problem', async () => {
    const sim = await simulator();
    sim.setFaults({ failNext: { status: 400, body: { username: ['This field is required.'] }, path: '/api/token/' } });
    expect((await rejection(client(sim).balance())).code).toBe('GATEWAY_AUTH_FAILED');
  });
});

describe('CamPay client: error mapping', () => {
  it.each([
    ['ER101 in error_code', 400, { message: 'Invalid phone number', error_code: 'ER101' }, 'PAYMENT_PHONE_INVALID', 'ER101'],
    ['ER102 inside the message', 400, { message: 'ER102: This number is not supported' }, 'PAYMENT_OPERATOR_UNSUPPORTED', 'ER102'],
    ['ER201', 400, { message: 'Invalid amount', error_code: 'ER201' }, 'PAYMENT_AMOUNT_INVALID', 'ER201'],
    ['ER301', 400, { message: 'Insufficient balance', error_code: 'ER301' }, 'PAYMENT_INSUFFICIENT_FUNDS', 'ER301'],
    ['token error', 400, { non_field_errors: ['Invalid token'] }, 'GATEWAY_AUTH_FAILED', undefined],
    ['500 HTML page', 500, '<html><body>Server Error (500)</body></html>', 'DEPENDENCY_UNAVAILABLE', undefined],
    ['502', 502, { message: 'Bad gateway' }, 'DEPENDENCY_UNAVAILABLE', undefined],
    ['503', 503, { message: 'Maintenance' }, 'DEPENDENCY_UNAVAILABLE', undefined],
    ['429', 429, { detail: 'Request was throttled.' }, 'DEPENDENCY_UNAVAILABLE', undefined],
    ['other 4xx with an unknown ER code', 400, { message: 'Something', error_code: 'ER999' }, 'GATEWAY_REJECTED', 'ER999'],
    ['403', 403, { message: 'API withdrawal is not enabled for this app' }, 'GATEWAY_REJECTED', undefined],
    ['404', 404, { message: 'Not found.' }, 'GATEWAY_REJECTED', undefined],
    ['200 with another shape', 200, { ref: 'x' }, 'GATEWAY_REJECTED', undefined],
    ['200 that is not JSON', 200, 'OK', 'GATEWAY_REJECTED', undefined],
  ])('%s -> %s', async (_name, status, body, code, campayCode) => {
    const sim = await simulator();
    const gateway = client(sim);
    sim.setFaults({ failNext: { status, body: body as Record<string, unknown> | string, path: '/api/collect/' } });
    const error = await rejection(gateway.collect(collectRequest()));
    expect(error.code).toBe(code);
    expect(error.retryable).toBe(code === 'DEPENDENCY_UNAVAILABLE');
    expect(error.details).toMatchObject({ operation: 'collect', httpStatus: status });
    if (campayCode) expect(error.details?.campayCode).toBe(campayCode);
    expect(error.message).not.toContain('<html>');
  });

  it('maps the simulator’s own refusals: insufficient balance on withdraw, and the ER code inside messages', async () => {
    const sim = await simulator({ errorCodeIn: 'message', balance: { mtn: 100 } });
    const error = await rejection(client(sim).withdraw({ amountXaf: 5000, recipientPhone: '670000000', description: 'payout', externalReference: 'w-9' }));
    expect(error.code).toBe('PAYMENT_INSUFFICIENT_FUNDS');
    expect(error.details).toMatchObject({ operation: 'withdraw', campayCode: 'ER301', campayMessage: expect.stringContaining('Insufficient balance') });
  });

  it('turns a slow CamPay into a retryable DEPENDENCY_UNAVAILABLE', async () => {
    const sim = await simulator({ faults: { latencyMs: 1000 } });
    const error = await rejection(client(sim, { timeoutMs: 100 }).balance());
    expect(error).toMatchObject({ code: 'DEPENDENCY_UNAVAILABLE', retryable: true });
    expect(error.message).toMatch(/within 100 ms/);
    expect(sim.requests()).toHaveLength(1); // the login itself timed out
  });

  it('turns an unreachable CamPay into a retryable DEPENDENCY_UNAVAILABLE', async () => {
    const sim = await simulator();
    const url = sim.url;
    await simulators.pop()!.close();
    const error = await rejection(createCampayClient({ baseUrl: url, credentials: { kind: 'token', token: 't' } }).balance());
    expect(error).toMatchObject({ code: 'DEPENDENCY_UNAVAILABLE', retryable: true, details: { networkCode: 'ECONNREFUSED' } });
  });

  it('never shows the token, the password or the raw body, even when CamPay echoes them', async () => {
    const sim = await simulator({ permanentToken: 'perm-SECRET-token-987' });
    const byToken = createCampayClient({ baseUrl: sim.url, credentials: { kind: 'token', token: 'perm-SECRET-token-987' } });
    sim.setFaults({ failNext: { status: 400, body: { message: 'Token perm-SECRET-token-987 may not collect', error_code: 'ER101', extra: 'raw-body-marker' } } });
    const tokenError = await rejection(byToken.collect(collectRequest()));
    expect(tokenError.code).toBe('PAYMENT_PHONE_INVALID');
    expect(tokenError.details).not.toHaveProperty('campayMessage');
    expectNoSecrets(tokenError, ['perm-SECRET-token-987', 'raw-body-marker']);

    sim.setFaults({ failNext: { status: 400, body: { non_field_errors: [`bad password ${PASSWORD}`] }, path: '/api/token/' } });
    const loginError = await rejection(client(sim).balance());
    expect(loginError.code).toBe('GATEWAY_AUTH_FAILED');
    expectNoSecrets(loginError, [PASSWORD]);
  });
});

describe('CamPay client: validation before any HTTP call', () => {
  it.each([
    ['amount 0', { amountXaf: 0 }, 'PAYMENT_AMOUNT_INVALID'],
    ['negative amount', { amountXaf: -100 }, 'PAYMENT_AMOUNT_INVALID'],
    ['decimal amount', { amountXaf: 99.5 }, 'PAYMENT_AMOUNT_INVALID'],
    ['NaN amount', { amountXaf: Number.NaN }, 'PAYMENT_AMOUNT_INVALID'],
    ['foreign phone', { payerPhone: '+33612345678' }, 'PAYMENT_PHONE_INVALID'],
    ['not a phone', { payerPhone: 'hello' }, 'PAYMENT_PHONE_INVALID'],
    ['Nexttel phone', { payerPhone: '+237 66 12 34 56 7' }, 'PAYMENT_OPERATOR_UNSUPPORTED'],
  ])('collect with %s -> %s, and CamPay saw nothing', async (_name, overrides, code) => {
    const sim = await simulator();
    const error = await rejection(client(sim).collect(collectRequest(overrides)));
    expect(error.code).toBe(code);
    expect(sim.requests()).toHaveLength(0);
  });

  it('checks withdrawals and references the same way', async () => {
    const sim = await simulator();
    const gateway = client(sim);
    expect((await rejection(gateway.withdraw({ amountXaf: 10.5, recipientPhone: '670000000', description: 'x', externalReference: 'w' }))).code).toBe(
      'PAYMENT_AMOUNT_INVALID',
    );
    expect((await rejection(gateway.withdraw({ amountXaf: 100, recipientPhone: '620000000', description: 'x', externalReference: 'w' }))).code).toBe(
      'PAYMENT_OPERATOR_UNSUPPORTED',
    );
    expect((await rejection(gateway.getTransaction(''))).code).toBe('VALIDATION_FAILED');
    expect(sim.requests()).toHaveLength(0);
  });

  it('refuses a base URL that is not http(s)', () => {
    expect(() => createCampayClient({ baseUrl: 'demo.campay.net/api', credentials: { kind: 'token', token: 't' } })).toThrow(/absolute http/);
  });
});
