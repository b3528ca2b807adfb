import { randomBytes, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import {
  answerControl,
  BodyTooLargeError,
  ControlError,
  FailNextQueue,
  InFlight,
  listen,
  readControlJson,
  readRawBody,
  sendJson,
  sendText,
  TimerSet,
  waitFor,
} from '../http-kit/http-kit.js';
import {
  atAccountSchema,
  atFaultsSchema,
  atSimulatorOptionsSchema,
  smsSendFormSchema,
  type AtAccount,
  type AtFailNext,
  type AtSimulatorFaults,
  type AtSimulatorOptions,
  type DeliveryStatus,
} from './africastalking-sim-schemas.js';
import { smsParts } from './sms-parts.js';
import { postUssd, type UssdScreen, type UssdSession } from './ussd-driver.js';

/**
 * Africa's Talking over real HTTP, following shared/INTEGRATIONS.md: the SMS send API
 * (`POST /version1/messaging`, form body, `apiKey` header, 201 + SMSMessageData), delivery reports
 * and inbound SMS posted as forms to our callbacks, and a USSD session driver that plays the
 * gateway against our USSD callback (CON/END text answers).
 *
 * Both hosts (api.africastalking.com and api.sandbox.africastalking.com) share these paths: point
 * either at this server. The username `sandbox` is just one more account here.
 */

export interface SentSms {
  messageId: string;
  username: string;
  /** E.164 with +, as given. */
  to: string;
  from?: string;
  message: string;
  enqueue: boolean;
  encoding: 'GSM-7' | 'UCS-2';
  parts: number;
  statusCode: number;
  status: string;
  cost: string;
  networkCode: string;
  /** Latest delivery report status sent for it. */
  deliveryStatus?: DeliveryStatus;
  at: string;
}

export interface AtCallbackDelivery {
  kind: 'delivery-report' | 'inbound-sms';
  url: string;
  params: Record<string, string>;
  outcome: 'sent' | 'failed' | 'dropped' | 'no-callback-url';
  status?: number;
  error?: string;
  at: string;
}

export interface AtApiRequest {
  method: string;
  path: string;
  status: number;
  at: string;
}

export interface InboundSmsInput {
  from: string;
  /** The short code or number written to. */
  to: string;
  text: string;
  /** Default: the account whose shortCodes include `to`, else the only account with inboundSmsUrl. */
  url?: string;
  linkId?: string;
  networkCode?: string;
  /** Default: now, ISO 8601 (format of the real callback unconfirmed). */
  date?: string;
}

export interface AfricasTalkingSimulator {
  /** Origin to use in place of https://api.africastalking.com, e.g. http://127.0.0.1:43210 */
  url: string;
  /** Full SMS send URL: `${url}/version1/messaging`. */
  smsUrl: string;
  port: number;
  addAccount(account: AtAccount): void;
  /** SMS accepted so far, oldest first (one per recipient). */
  messages(filter?: { username?: string; to?: string }): SentSms[];
  waitForMessages(filter?: { username?: string; to?: string; count?: number; timeoutMs?: number }): Promise<SentSms[]>;
  /** Posts a delivery report for a message to its account's deliveryReportsUrl. */
  deliveryReport(messageId: string, report: { status: DeliveryStatus; failureReason?: string }): Promise<AtCallbackDelivery[]>;
  /** A phone sends an SMS to a short code: posted to the account's inboundSmsUrl. */
  receiveSms(input: InboundSmsInput): Promise<AtCallbackDelivery[]>;
  /** Numbers that answer 406 UserInBlacklist (they sent STOP). */
  blacklist(phoneNumber: string): void;
  ussd: {
    /** The phone dials the service code: the callback gets text "" and answers the first screen. */
    dial(serviceCode: string, phoneNumber: string, options?: { networkCode?: string; callbackUrl?: string }): Promise<UssdSession>;
    sessions(): UssdSession[];
  };
  callbacks(): AtCallbackDelivery[];
  requests(): AtApiRequest[];
  setFaults(faults: AtSimulatorFaults): void;
  /** Resolves once no callback is being posted. */
  settled(): Promise<void>;
  close(): Promise<void>;
}

class AtHttpError extends Error {
  constructor(
    readonly status: number,
    readonly text: string,
  ) {
    super(`${status} ${text}`);
  }
}

/** Recipient status codes of the SMS API. */
const RECIPIENT_STATUS = {
  success: { statusCode: 101, status: 'Success' },
  invalidSenderId: { statusCode: 402, status: 'InvalidSenderId' },
  invalidPhoneNumber: { statusCode: 403, status: 'InvalidPhoneNumber' },
  blacklisted: { statusCode: 406, status: 'UserInBlacklist' },
} as const;

const MTN_PREFIXES = ['67', '650', '651', '652', '653', '654', '680', '681', '682', '683'];
const ORANGE_PREFIXES = ['69', '655', '656', '657', '658', '659', '686', '687'];
const CALLBACK_TIMEOUT_MS = 10_000;

/** MCC+MNC as Africa's Talking reports it: 624 Cameroon, 01 MTN, 02 Orange; 99999 is their sandbox network. */
export function networkCodeOf(phoneNumber: string): string {
  const national = /^\+237(\d{9})$/.exec(phoneNumber)?.[1];
  if (!national) return '99999';
  if (MTN_PREFIXES.some((prefix) => national.startsWith(prefix))) return '62401';
  if (ORANGE_PREFIXES.some((prefix) => national.startsWith(prefix))) return '62402';
  return '99999';
}

const controlInboundSchema = z.strictObject({ from: z.string().min(1), to: z.string().min(1), text: z.string(), url: z.url().optional(), linkId: z.string().optional() });
const controlReportSchema = z.strictObject({ messageId: z.string().min(1), status: z.enum(['Sent', 'Submitted', 'Buffered', 'Rejected', 'Success', 'Failed']), failureReason: z.string().optional() });
const controlDialSchema = z.strictObject({ serviceCode: z.string().min(2), phoneNumber: z.string().regex(/^\+\d{8,15}$/), callbackUrl: z.url().optional() });
const controlReplySchema = z.strictObject({ sessionId: z.string().min(1), text: z.string() });

const escapeXml = (text: string) => text.replace(/[<>&'"]/g, (character) => `&#${character.charCodeAt(0)};`);

/** The API answers XML unless the client asks for JSON (the SDK sends Accept: application/json). */
function smsResponseXml(data: { Message: string; Recipients: Array<Record<string, string | number>> }): string {
  const recipients = data.Recipients.map(
    (recipient) => `<Recipient>${Object.entries(recipient).map(([key, value]) => `<${key}>${escapeXml(String(value))}</${key}>`).join('')}</Recipient>`,
  ).join('');
  return `<?xml version="1.0" encoding="UTF-8"?><AfricasTalkingResponse><SMSMessageData><Message>${escapeXml(data.Message)}</Message><Recipients>${recipients}</Recipients></SMSMessageData></AfricasTalkingResponse>`;
}

export async function startAfricasTalkingSimulator(input: AtSimulatorOptions = {}): Promise<AfricasTalkingSimulator> {
  const options = atSimulatorOptionsSchema.parse(input);
  let faults = atFaultsSchema.parse(options.faults);
  const failNext = new FailNextQueue<AtFailNext>();
  failNext.set(faults.failNext ?? null);
  const accounts = new Map<string, AtAccount & { shortCodes: string[] }>();
  const ussdServices = new Map(options.ussdServices.map((service) => [service.serviceCode, service.callbackUrl]));
  const sent: SentSms[] = [];
  const callbackLog: AtCallbackDelivery[] = [];
  const requestLog: AtApiRequest[] = [];
  const blacklisted = new Set<string>();
  const sessions: UssdSession[] = [];
  const timers = new TimerSet();
  const inFlight = new InFlight();
  const closing = new AbortController();
  const listeners = new Set<() => void>();
  const changed = () => {
    for (const listener of [...listeners]) listener();
  };

  function addAccount(account: AtAccount): void {
    const parsed = atAccountSchema.parse(account);
    accounts.set(parsed.username, parsed);
  }
  for (const account of options.accounts) addAccount(account);

  const money = (amount: number) => `${options.pricePerPart.currency} ${amount.toFixed(4)}`;

  // ---- callbacks (delivery reports, inbound SMS) -----------------------------------------------

  async function postForm(kind: AtCallbackDelivery['kind'], url: string | undefined, params: Record<string, string>): Promise<AtCallbackDelivery[]> {
    const record = (entry: Omit<AtCallbackDelivery, 'at' | 'kind' | 'params' | 'url'>) => {
      const delivery: AtCallbackDelivery = { kind, url: url ?? '', params, ...entry, at: new Date().toISOString() };
      callbackLog.push(delivery);
      return delivery;
    };
    if (!url) return [record({ outcome: 'no-callback-url' })];
    if (faults.dropCallbacks) return [record({ outcome: 'dropped' })];
    if (faults.callbackDelayMs) await timers.pause(faults.callbackDelayMs);
    const copies = faults.duplicateCallbacks ?? 1;
    return Promise.all(
      Array.from({ length: copies }, async () => {
        try {
          const response = await fetch(url, {
            method: 'POST',
            headers: { 'content-type': 'application/x-www-form-urlencoded' },
            body: new URLSearchParams(params).toString(),
            signal: AbortSignal.any([closing.signal, AbortSignal.timeout(CALLBACK_TIMEOUT_MS)]),
          });
          await response.arrayBuffer();
          return record({ outcome: 'sent', status: response.status });
        } catch (error) {
          return record({ outcome: 'failed', error: (error as Error).message });
        }
      }),
    );
  }

  function deliveryReport(messageId: string, report: { status: DeliveryStatus; failureReason?: string }): Promise<AtCallbackDelivery[]> {
    const message = sent.find((entry) => entry.messageId === messageId);
    if (!message) return Promise.reject(new Error(`Africa's Talking simulator: no message ${messageId}`));
    message.deliveryStatus = report.status;
    const failed = report.status === 'Failed' || report.status === 'Rejected';
    const params: Record<string, string> = {
      id: messageId,
      status: report.status,
      phoneNumber: message.to,
      networkCode: message.networkCode,
      retryCount: '0',
      ...(failed ? { failureReason: report.failureReason ?? 'DeliveryFailure' } : {}),
    };
    return inFlight.track(postForm('delivery-report', accounts.get(message.username)?.deliveryReportsUrl, params));
  }

  function receiveSms(sms: InboundSmsInput): Promise<AtCallbackDelivery[]> {
    const account = [...accounts.values()].find((candidate) => candidate.shortCodes.includes(sms.to)) ?? [...accounts.values()].filter((candidate) => candidate.inboundSmsUrl).at(0);
    const params: Record<string, string> = {
      from: sms.from,
      to: sms.to,
      text: sms.text,
      date: sms.date ?? new Date().toISOString(),
      id: randomUUID(),
      linkId: sms.linkId ?? randomUUID(),
      networkCode: sms.networkCode ?? networkCodeOf(sms.from),
    };
    return inFlight.track(postForm('inbound-sms', sms.url ?? account?.inboundSmsUrl, params));
  }

  // ---- SMS API ---------------------------------------------------------------------------------

  function authenticate(request: IncomingMessage, username: string | undefined): AtAccount {
    const apiKey = request.headers.apikey;
    const account = username ? accounts.get(username) : undefined;
    if (!account || typeof apiKey !== 'string' || apiKey !== account.apiKey) throw new AtHttpError(401, 'The supplied authentication is invalid');
    return account;
  }

  async function handleSend(request: IncomingMessage, response: ServerResponse): Promise<number> {
    const contentType = request.headers['content-type'] ?? '';
    const raw = (await readRawBody(request)).toString('utf8');
    const fields = /json/i.test(contentType) ? (JSON.parse(raw || '{}') as unknown) : Object.fromEntries(new URLSearchParams(raw));
    const form = smsSendFormSchema.safeParse(fields);
    if (!form.success) throw new AtHttpError(400, 'Invalid request body');
    const account = authenticate(request, form.data.username);
    for (const field of ['to', 'message'] as const) {
      if (!form.data[field]) throw new AtHttpError(400, `Request is missing required form field '${field}'`);
    }
    const message = form.data.message!;
    const from = form.data.from || undefined;
    const { encoding, parts } = smsParts(message);
    const senderAllowed = !from || !account.senderIds || account.senderIds.includes(from);
    const recipients = form.data.to!.split(',').map((number) => number.trim()).filter(Boolean);
    let totalCost = 0;
    const out = recipients.map((number) => {
      const outcome = !senderAllowed
        ? RECIPIENT_STATUS.invalidSenderId
        : !/^\+\d{8,15}$/.test(number)
          ? RECIPIENT_STATUS.invalidPhoneNumber
          : blacklisted.has(number)
            ? RECIPIENT_STATUS.blacklisted
            : RECIPIENT_STATUS.success;
      const ok = outcome.statusCode === 101;
      const cost = ok ? parts * options.pricePerPart.amount : 0;
      totalCost += cost;
      const entry: SentSms = {
        messageId: ok ? `ATXid_${randomBytes(16).toString('hex')}` : 'None',
        username: account.username,
        to: number,
        from,
        message,
        enqueue: form.data.enqueue === '1',
        encoding,
        parts,
        ...outcome,
        cost: ok ? money(cost) : '0',
        networkCode: networkCodeOf(number),
        at: new Date().toISOString(),
      };
      if (ok) sent.push(entry);
      return entry;
    });
    const accepted = out.filter((entry) => entry.statusCode === 101);
    const data = {
      Message: `Sent to ${accepted.length}/${out.length} Total Cost: ${accepted.length > 0 ? money(totalCost) : '0'}`,
      Recipients: out.map((entry) => ({ statusCode: entry.statusCode, number: entry.to, status: entry.status, cost: entry.cost, messageId: entry.messageId })),
    };
    if ((request.headers.accept ?? '').includes('application/json')) sendJson(response, 201, { SMSMessageData: data });
    else sendText(response, 201, smsResponseXml(data), 'application/xml; charset=utf-8');
    if (accepted.length > 0) changed();
    const auto = options.autoDeliveryReport;
    if (auto) {
      for (const entry of accepted) {
        // Tracked from now, so settled() also waits for reports not yet due.
        void inFlight.track(
          timers.pause(auto.afterMs).then(() => (closing.signal.aborted ? [] : deliveryReport(entry.messageId, { status: auto.status, failureReason: auto.failureReason }))),
        );
      }
    }
    return 201;
  }

  /** /_sim/... : the same controls as the handle, over HTTP, for `relais sim africastalking`. */
  async function handleControl(request: IncomingMessage, response: ServerResponse, path: string): Promise<void> {
    await answerControl(response, async () => {
      const route = `${request.method} ${path}`;
      if (route === 'GET /_sim/messages') return sent;
      if (route === 'POST /_sim/inbound-sms') return receiveSms(await readControlJson(request, controlInboundSchema));
      if (route === 'POST /_sim/delivery-reports') {
        const body = await readControlJson(request, controlReportSchema);
        return deliveryReport(body.messageId, body);
      }
      if (route === 'POST /_sim/ussd/dial') {
        const body = await readControlJson(request, controlDialSchema);
        const session = await dial(body.serviceCode, body.phoneNumber, { callbackUrl: body.callbackUrl });
        return { sessionId: session.sessionId, screen: session.screen };
      }
      if (route === 'POST /_sim/ussd/reply') {
        const body = await readControlJson(request, controlReplySchema);
        const session = sessions.find((candidate) => candidate.sessionId === body.sessionId);
        if (!session) throw new ControlError(404, 'unknown USSD session');
        return { sessionId: session.sessionId, screen: await session.reply(body.text) };
      }
      throw new ControlError(404, 'unknown simulator control endpoint');
    });
  }

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const path = new URL(request.url ?? '/', 'http://sim').pathname;
    if (path.startsWith('/_sim/')) return handleControl(request, response, path);
    const entry: AtApiRequest = { method: request.method ?? 'GET', path, status: 0, at: new Date().toISOString() };
    requestLog.push(entry);
    try {
      if (faults.latencyMs) await timers.pause(faults.latencyMs);
      const injected = failNext.take(() => true);
      if (injected) throw new AtHttpError(injected.status, injected.body ?? 'Internal Server Error');
      if (request.method === 'POST' && path === '/version1/messaging') {
        entry.status = await handleSend(request, response);
        return;
      }
      throw new AtHttpError(404, 'Not Found');
    } catch (error) {
      const failure = error instanceof AtHttpError ? error : error instanceof BodyTooLargeError ? new AtHttpError(413, 'Request Entity Too Large') : error instanceof SyntaxError ? new AtHttpError(400, 'Invalid request body') : undefined;
      if (!failure) throw error;
      entry.status = failure.status;
      sendText(response, failure.status, failure.text);
    }
  }

  const listening = await listen(handle, options, (response, error) => sendText(response, 500, `Internal Server Error: ${(error as Error).message}`));

  // ---- USSD ------------------------------------------------------------------------------------

  async function dial(serviceCode: string, phoneNumber: string, dialOptions: { networkCode?: string; callbackUrl?: string } = {}): Promise<UssdSession> {
    const url = dialOptions.callbackUrl ?? ussdServices.get(serviceCode);
    if (!url) throw new Error(`Africa's Talking simulator: no USSD service ${serviceCode} (add it to ussdServices or pass callbackUrl)`);
    const sessionId = `ATUid_${randomBytes(16).toString('hex')}`;
    const networkCode = dialOptions.networkCode ?? networkCodeOf(phoneNumber);
    const inputs: string[] = [];
    const screens: UssdScreen[] = [];
    const post = (text: string) => postUssd(url, { sessionId, serviceCode, phoneNumber, networkCode, text }, closing.signal);
    const session: UssdSession = {
      sessionId,
      serviceCode,
      phoneNumber,
      inputs,
      screens,
      get screen() {
        return screens.at(-1)!;
      },
      get ended() {
        return screens.at(-1)?.kind !== 'CON';
      },
      async reply(text: string) {
        if (session.ended) throw new Error(`USSD session ${sessionId} is over (last screen: ${session.screen.kind})`);
        inputs.push(text);
        const screen = await post(inputs.join('*'));
        screens.push(screen);
        return screen;
      },
    };
    screens.push(await post(''));
    sessions.push(session);
    return session;
  }

  return {
    url: listening.origin,
    smsUrl: `${listening.origin}/version1/messaging`,
    port: listening.port,
    addAccount,
    messages: (filter = {}) => sent.filter((entry) => (!filter.username || entry.username === filter.username) && (!filter.to || entry.to === filter.to)).map((entry) => ({ ...entry })),
    waitForMessages(filter = {}) {
      const count = filter.count ?? 1;
      const check = () => {
        const matching = sent.filter((entry) => (!filter.username || entry.username === filter.username) && (!filter.to || entry.to === filter.to));
        return matching.length >= count ? matching.map((entry) => ({ ...entry })) : undefined;
      };
      const subscribe = (listener: () => void) => {
        listeners.add(listener);
        return () => listeners.delete(listener);
      };
      return waitFor(check, subscribe, filter.timeoutMs ?? 5_000, `${count} SMS`);
    },
    deliveryReport,
    receiveSms,
    blacklist: (phoneNumber) => void blacklisted.add(phoneNumber),
    ussd: { dial, sessions: () => [...sessions] },
    callbacks: () => callbackLog.map((entry) => ({ ...entry, params: { ...entry.params } })),
    requests: () => requestLog.map((entry) => ({ ...entry })),
    setFaults(update) {
      const parsed = atFaultsSchema.parse(update);
      faults = { ...faults, ...parsed };
      if (parsed.failNext !== undefined) failNext.set(parsed.failNext);
    },
    async settled() {
      await inFlight.settled();
    },
    async close() {
      timers.close();
      closing.abort();
      await listening.close();
      await inFlight.settled();
    },
  };
}

export type { UssdScreen, UssdSession } from './ussd-driver.js';
