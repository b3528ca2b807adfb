import { createHash, randomBytes, randomInt } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import {
  answerControl,
  BodyTooLargeError,
  ControlError,
  readControlJson,
  FailNextQueue,
  imageInfo,
  InFlight,
  listen,
  readFields,
  readRawBody,
  sendJson,
  TimerSet,
  waitFor,
  type FieldValue,
} from '../http-kit/http-kit.js';
import {
  eventOf,
  hubSignature256,
  REENGAGEMENT_ERROR,
  serializeEvent,
  type WaEvent,
  type WaInboundMessage,
  type WaStatus,
} from './whatsapp-cloud-events.js';
import {
  sendMessageSchema,
  waFaultsSchema,
  waPhoneNumberSchema,
  waSimulatorOptionsSchema,
  type WaFailNext,
  type WaInteractive,
  type WaPhoneNumber,
  type WaSimulatorFaults,
  type WaSimulatorOptions,
} from './whatsapp-cloud-sim-schemas.js';

/**
 * The WhatsApp Cloud API (Graph) over real HTTP, following shared/INTEGRATIONS.md: sending
 * messages (text, interactive buttons/lists, images by media id or link), media upload, and
 * signed webhook events (customer messages, interactive replies, statuses), with the 24-hour
 * customer-service window. Customers' media (photos, documents, voice notes) are fetched as with
 * Meta: GET /<version>/<media-id> with the number's token gives a URL and the size, then GET on
 * that URL with the same token gives the bytes (streamed, so a reader that stops early is seen). Several phone numbers (tenants) at once, each with its own token,
 * app secret and webhook.
 */

export interface SentWaMessage {
  /** wamid... */
  id: string;
  phoneNumberId: string;
  to: string;
  waId: string;
  type: 'text' | 'interactive' | 'image' | 'template';
  text?: string;
  interactive?: WaInteractive;
  image?: { id?: string; link?: string; caption?: string; bytes?: Buffer; mimeType?: string };
  template?: { name: string; language: string };
  /** Replying to (context.message_id). */
  contextId?: string;
  /** Statuses posted so far, in order. */
  statuses: WaStatus['status'][];
  at: string;
}

export interface WaEventDelivery {
  phoneNumberId: string;
  kind: 'message' | 'status';
  url: string;
  outcome: 'accepted' | 'rejected' | 'failed' | 'no-webhook';
  status?: number;
  error?: string;
  /** The exact body posted. */
  body: string;
  signature: string;
  at: string;
}

export interface WaApiRequest {
  method: string;
  path: string;
  status: number;
  at: string;
}

export interface CustomerTextInput {
  /** wa_id: digits with country code, no + (e.g. 237670000001). */
  from: string;
  text: string;
  /** Profile name shown in contacts[].profile.name. */
  name?: string;
}

export interface CustomerMediaInput {
  from: string;
  type: 'image' | 'document' | 'audio';
  bytes: Buffer;
  /** As the customer's phone declares it (not checked: a disguised file keeps its false type). */
  mimeType?: string;
  fileName?: string;
  caption?: string;
  name?: string;
  /**
   * false: the media lookup gives no file_size and the download no content-length (a provider
   * that declares nothing), so only a capped read protects the reader. Default true.
   */
  declareSize?: boolean;
}

/** One download of a customer's media: how much the simulator wrote before the reader stopped. */
export interface WaMediaDownload {
  mediaId: string;
  totalBytes: number;
  bytesWritten: number;
  /** The whole file was written. */
  completed: boolean;
}

export interface CustomerChoiceInput {
  from: string;
  /** The id of the reply button or list row the customer picks. */
  choiceId: string;
  name?: string;
}

export interface VerificationResult {
  status: number;
  body: string;
  challenge: string;
  /** True when the receiver echoed the challenge with 200. */
  verified: boolean;
}

export interface WhatsAppCloudSimulator {
  /** Origin standing in for https://graph.facebook.com, e.g. http://127.0.0.1:43210 */
  url: string;
  port: number;
  addPhoneNumber(phoneNumber: WaPhoneNumber): void;
  /** The customer writes: signed event to the number's webhook; resolves once accepted. Opens the 24 h window. */
  customerText(phoneNumberId: string, input: CustomerTextInput): Promise<WaEvent>;
  /** The customer sends a photo, document or voice note: stored as media, announced in a signed event. */
  customerMedia(phoneNumberId: string, input: CustomerMediaInput): Promise<WaEvent>;
  /** The customer taps a reply button or list row the business sent them. */
  customerChoice(phoneNumberId: string, input: CustomerChoiceInput): Promise<WaEvent>;
  /** Posts a status for a sent message (e.g. 'read'). */
  postStatus(wamid: string, status: 'sent' | 'delivered' | 'read' | 'failed'): Promise<WaEvent>;
  /** Meta's verification GET against the number's webhook (or the given url/token). */
  verifyWebhook(phoneNumberId: string, override?: { url?: string; verifyToken?: string }): Promise<VerificationResult>;
  sent(filter?: { phoneNumberId?: string; to?: string }): SentWaMessage[];
  waitForSent(filter?: { phoneNumberId?: string; to?: string; count?: number; timeoutMs?: number }): Promise<SentWaMessage[]>;
  media(mediaId: string): { bytes: Buffer; mimeType: string; phoneNumberId: string } | undefined;
  /** Downloads of customers' media (GET on the media URL), oldest first; finished once the reader stopped. */
  mediaDownloads(): WaMediaDownload[];
  deliveries(phoneNumberId?: string): WaEventDelivery[];
  requests(): WaApiRequest[];
  setFaults(faults: WaSimulatorFaults): void;
  /** Resolves once no event is being delivered. */
  settled(): Promise<void>;
  close(): Promise<void>;
}

class GraphError extends Error {
  constructor(
    readonly status: number,
    readonly error: { message: string; type: string; code: number; error_subcode?: number; error_data?: { messaging_product: 'whatsapp'; details: string } },
  ) {
    super(error.message);
  }
}

const DAY_MS = 24 * 60 * 60 * 1000;
const WEBHOOK_TIMEOUT_MS = 10_000;
const MAX_IMAGE_BYTES = 5 * 1024 * 1024;

const controlTextSchema = z.strictObject({ phoneNumberId: z.string(), from: z.string().regex(/^\+?\d{8,15}$/), text: z.string().min(1), name: z.string().optional() });
const controlChoiceSchema = z.strictObject({ phoneNumberId: z.string(), from: z.string().regex(/^\+?\d{8,15}$/), choiceId: z.string().min(1), name: z.string().optional() });

const invalidParameter = (details: string, code = 100) =>
  new GraphError(400, { message: code === 100 ? '(#100) Invalid parameter' : `(#${code}) Parameter value is not valid`, type: 'OAuthException', code, error_data: { messaging_product: 'whatsapp', details } });

function checkLength(value: string, max: number, what: string): void {
  if ([...value].length < 1 || [...value].length > max) throw invalidParameter(`${what} length invalid. Min length: 1, Max length: ${max}`, 131009);
}

interface NumberState {
  config: WaPhoneNumber & { wabaId: string };
  queue: Array<{ event: WaEvent; kind: WaEventDelivery['kind']; accepted: () => void }>;
  delivering: boolean;
  /** wa_id -> when the customer last wrote (ms). */
  lastInbound: Map<string, number>;
}

export async function startWhatsAppCloudSimulator(input: WaSimulatorOptions = {}): Promise<WhatsAppCloudSimulator> {
  const options = waSimulatorOptionsSchema.parse(input);
  const nowMs = options.now ?? Date.now;
  const timestamp = () => String(Math.floor(nowMs() / 1000));
  let faults = waFaultsSchema.parse(options.faults);
  const failNext = new FailNextQueue<WaFailNext>();
  failNext.set(faults.failNext ?? null);
  const numbers = new Map<string, NumberState>();
  const sentLog: SentWaMessage[] = [];
  const mediaStore = new Map<string, { bytes: Buffer; mimeType: string; phoneNumberId: string; declareSize?: boolean }>();
  const downloadLog: WaMediaDownload[] = [];
  const deliveryLog: WaEventDelivery[] = [];
  const requestLog: WaApiRequest[] = [];
  const timers = new TimerSet();
  const inFlight = new InFlight();
  const closing = new AbortController();
  const listeners = new Set<() => void>();
  let closed = false;
  const changed = () => {
    for (const listener of [...listeners]) listener();
  };
  const subscribe = (listener: () => void) => {
    listeners.add(listener);
    return () => listeners.delete(listener);
  };

  function addPhoneNumber(phoneNumber: WaPhoneNumber): void {
    const config = waPhoneNumberSchema.parse(phoneNumber);
    numbers.set(config.id, { config: { ...config, wabaId: config.wabaId ?? `1${config.id}` }, queue: [], delivering: false, lastInbound: new Map() });
  }
  for (const phoneNumber of options.phoneNumbers) addPhoneNumber(phoneNumber);

  function numberOf(phoneNumberId: string): NumberState {
    const state = numbers.get(phoneNumberId);
    if (!state) throw new Error(`WhatsApp Cloud simulator: no phone number ${phoneNumberId}`);
    return state;
  }

  const newWamid = () => `wamid.HBgM${randomBytes(30).toString('base64')}`;
  const metadata = (state: NumberState) => ({ display_phone_number: state.config.displayPhoneNumber, phone_number_id: state.config.id });

  // ---- events to our webhook -------------------------------------------------------------------

  function emit(state: NumberState, kind: WaEventDelivery['kind'], event: WaEvent): Promise<WaEvent> {
    return new Promise((resolve) => {
      if (closed) return resolve(event);
      state.queue.push({ event, kind, accepted: () => resolve(event) });
      if (!state.delivering && !closed) {
        state.delivering = true;
        void inFlight.track(deliverEvents(state));
      }
    });
  }

  /** One event at a time per number, in order; a rejected event is retried before the next (as Meta retries). */
  async function deliverEvents(state: NumberState): Promise<void> {
    while (!closed && state.queue.length > 0) {
      const item = state.queue[0]!;
      const body = serializeEvent(item.event, options.escapeUnicode);
      const signature = hubSignature256(body, faults.signWith ?? state.config.appSecret);
      const url = state.config.webhookUrl;
      if (!url) {
        deliveryLog.push({ phoneNumberId: state.config.id, kind: item.kind, url: '', outcome: 'no-webhook', body, signature, at: new Date().toISOString() });
        state.queue.shift();
        item.accepted();
        continue;
      }
      const copies = faults.duplicateEvents ?? 1;
      const attempts = await Promise.all(Array.from({ length: copies }, () => postEvent(state, item.kind, url, body, signature)));
      if (attempts.some((attempt) => attempt.outcome === 'accepted')) {
        state.queue.shift();
        item.accepted();
      } else {
        await timers.pause(options.webhookRetryMs);
      }
    }
    // Cleared in the same turn as the last queue check, so an event queued right after still starts a loop.
    state.delivering = false;
    // Closed with events left: let callers waiting on them go.
    if (closed) for (const item of state.queue.splice(0)) item.accepted();
  }

  async function postEvent(state: NumberState, kind: WaEventDelivery['kind'], url: string, body: string, signature: string): Promise<WaEventDelivery> {
    const entry: WaEventDelivery = { phoneNumberId: state.config.id, kind, url, outcome: 'failed', body, signature, at: new Date().toISOString() };
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'X-Hub-Signature-256': signature,
          // The older SHA-1 header still comes along.
          'X-Hub-Signature': `sha1=${createHash('sha1').update(body).digest('hex')}`,
        },
        body,
        signal: AbortSignal.any([closing.signal, AbortSignal.timeout(WEBHOOK_TIMEOUT_MS)]),
      });
      await response.arrayBuffer();
      entry.status = response.status;
      entry.outcome = response.ok ? 'accepted' : 'rejected';
    } catch (error) {
      entry.error = (error as Error).message;
    }
    deliveryLog.push(entry);
    return entry;
  }

  function statusEvent(state: NumberState, message: SentWaMessage, status: WaStatus['status'], error?: typeof REENGAGEMENT_ERROR): WaEvent {
    const entry: WaStatus = { id: message.id, status, timestamp: timestamp(), recipient_id: message.waId };
    if (status === 'sent' || status === 'delivered') {
      entry.conversation = { id: createHash('sha1').update(`${state.config.id}/${message.waId}`).digest('hex').slice(0, 32), origin: { type: message.type === 'template' ? 'utility' : 'service' } };
      if (status === 'sent') entry.conversation.expiration_timestamp = String(Math.floor((nowMs() + DAY_MS) / 1000));
      entry.pricing = { billable: message.type === 'template', pricing_model: 'PMP', category: message.type === 'template' ? 'utility' : 'service' };
    }
    if (error) entry.errors = [error];
    message.statuses.push(status);
    return eventOf(state.config.wabaId, { messaging_product: 'whatsapp', metadata: metadata(state), statuses: [entry] });
  }

  function customerEvent(state: NumberState, from: string, name: string | undefined, message: Omit<WaInboundMessage, 'from' | 'id' | 'timestamp'>): Promise<WaEvent> {
    const waId = from.replace(/^\+/, '');
    state.lastInbound.set(waId, nowMs());
    const inbound: WaInboundMessage = {
      ...(message.context ? { context: message.context } : {}),
      from: waId,
      id: newWamid(),
      timestamp: timestamp(),
      type: message.type,
      ...(message.text ? { text: message.text } : {}),
      ...(message.interactive ? { interactive: message.interactive } : {}),
      ...(message.image ? { image: message.image } : {}),
      ...(message.document ? { document: message.document } : {}),
      ...(message.audio ? { audio: message.audio } : {}),
    };
    return emit(
      state,
      'message',
      eventOf(state.config.wabaId, { messaging_product: 'whatsapp', metadata: metadata(state), contacts: [{ profile: { name: name ?? 'Client' }, wa_id: waId }], messages: [inbound] }),
    );
  }

  // ---- Graph API -------------------------------------------------------------------------------

  function authenticate(request: IncomingMessage, phoneNumberId: string): NumberState {
    const token = /^Bearer (\S+)$/.exec(request.headers.authorization ?? '')?.[1];
    const tokenOwner = token ? [...numbers.values()].find((state) => state.config.accessToken === token) : undefined;
    if (!tokenOwner) throw new GraphError(401, { message: 'Invalid OAuth access token - Cannot parse access token', type: 'OAuthException', code: 190 });
    const state = numbers.get(phoneNumberId);
    // A valid token for another tenant's number sees nothing, as with Meta's permissions.
    if (!state || state.config.accessToken !== token) {
      throw new GraphError(400, {
        message: `Unsupported post request. Object with ID '${phoneNumberId}' does not exist, cannot be loaded due to missing permissions, or does not support this operation. Please read the Graph API documentation at https://developers.facebook.com/docs/graph-api`,
        type: 'GraphMethodException',
        code: 100,
        error_subcode: 33,
      });
    }
    return state;
  }

  function validateInteractive(interactive: WaInteractive): void {
    checkLength(interactive.body.text, 1024, 'Body text');
    if (interactive.type === 'button') {
      const buttons = interactive.action.buttons;
      if (buttons.length < 1 || buttons.length > 3) throw invalidParameter('Number of buttons invalid. Min: 1, Max: 3', 131009);
      for (const button of buttons) {
        checkLength(button.reply.title, 20, 'Button title');
        checkLength(button.reply.id, 256, 'Button id');
      }
      if (new Set(buttons.map((button) => button.reply.id)).size !== buttons.length) throw invalidParameter('Button ids must be unique', 131009);
      return;
    }
    checkLength(interactive.action.button, 20, 'Button label');
    const rows = interactive.action.sections.flatMap((section) => section.rows);
    if (interactive.action.sections.length < 1 || interactive.action.sections.length > 10) throw invalidParameter('Number of sections invalid. Min: 1, Max: 10', 131009);
    if (rows.length < 1 || rows.length > 10) throw invalidParameter('Total row count exceed max allowed count: 10', 131009);
    for (const row of rows) {
      checkLength(row.title, 24, 'Row title');
      checkLength(row.id, 200, 'Row id');
      if (row.description !== undefined && [...row.description].length > 72) throw invalidParameter('Row description length invalid. Max length: 72', 131009);
    }
    if (new Set(rows.map((row) => row.id)).size !== rows.length) throw invalidParameter('Row ids must be unique', 131009);
  }

  async function handleSend(request: IncomingMessage, state: NumberState): Promise<unknown> {
    const raw = await readRawBody(request);
    let json: unknown;
    try {
      json = JSON.parse(raw.toString('utf8'));
    } catch {
      throw invalidParameter('Request body is not valid JSON');
    }
    const parsed = sendMessageSchema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      const path = issue.path.map(String);
      const name = path.length > 1 ? `${path[0]}['${path.slice(1).join("']['")}']` : (path[0] ?? 'body');
      throw new GraphError(400, { message: `(#100) The parameter ${name} is required.`, type: 'OAuthException', code: 100, error_data: { messaging_product: 'whatsapp', details: issue.message } });
    }
    const body = parsed.data;
    const waId = body.to.replace(/\D/g, '');
    if (waId.length < 8 || waId.length > 15) throw invalidParameter(`Recipient phone number ${body.to} is not a valid WhatsApp number`, 131026);
    const message: SentWaMessage = { id: newWamid(), phoneNumberId: state.config.id, to: body.to, waId, type: body.type, contextId: body.context?.message_id, statuses: [], at: new Date().toISOString() };
    if (body.type === 'text') {
      if (!body.text) throw new GraphError(400, { message: "(#100) The parameter text['body'] is required.", type: 'OAuthException', code: 100 });
      checkLength(body.text.body, 4096, 'Text body');
      message.text = body.text.body;
    } else if (body.type === 'interactive') {
      if (!body.interactive) throw new GraphError(400, { message: '(#100) The parameter interactive is required.', type: 'OAuthException', code: 100 });
      validateInteractive(body.interactive);
      message.interactive = body.interactive;
    } else if (body.type === 'image') {
      const image = body.image;
      if (!image || (image.id === undefined) === (image.link === undefined)) throw invalidParameter("Param image must have exactly one of 'id' or 'link'");
      if (image.caption !== undefined) checkLength(image.caption, 1024, 'Caption');
      const stored = image.id !== undefined ? mediaStore.get(image.id) : undefined;
      if (image.id !== undefined && (!stored || stored.phoneNumberId !== state.config.id)) throw invalidParameter(`Param image['id'] is not a valid media id`);
      message.image = { id: image.id, link: image.link, caption: image.caption, bytes: stored?.bytes, mimeType: stored?.mimeType };
    } else {
      if (!body.template) throw new GraphError(400, { message: '(#100) The parameter template is required.', type: 'OAuthException', code: 100 });
      message.template = { name: body.template.name, language: body.template.language.code };
    }

    const lastInbound = state.lastInbound.get(waId);
    const outsideWindow = body.type !== 'template' && options.windowRule !== false && (lastInbound === undefined || nowMs() - lastInbound > DAY_MS);
    if (outsideWindow && options.windowRule === 'reject') {
      throw new GraphError(400, { message: '(#131047) Re-engagement message', type: 'OAuthException', code: 131047, error_data: { messaging_product: 'whatsapp', details: REENGAGEMENT_ERROR.error_data.details } });
    }
    sentLog.push(message);
    changed();
    // Statuses follow the answer, as with Meta; tracked so settled() waits for them.
    void inFlight.track(
      timers.pause(0).then(async () => {
        if (closed) return;
        if (outsideWindow) return void (await emit(state, 'status', statusEvent(state, message, 'failed', REENGAGEMENT_ERROR)));
        for (const status of options.autoStatuses) await emit(state, 'status', statusEvent(state, message, status));
      }),
    );
    return { messaging_product: 'whatsapp', contacts: [{ input: body.to, wa_id: waId }], messages: [{ id: message.id }] };
  }

  async function handleMediaUpload(request: IncomingMessage, state: NumberState): Promise<unknown> {
    const raw = await readRawBody(request);
    let fields: Map<string, unknown>;
    try {
      fields = await readFields(request, raw);
    } catch {
      throw invalidParameter('Media upload must be multipart/form-data');
    }
    if (fields.get('messaging_product') !== 'whatsapp') throw new GraphError(400, { message: '(#100) The parameter messaging_product is required.', type: 'OAuthException', code: 100 });
    const file = fields.get('file') as FieldValue | undefined;
    if (!file || typeof file === 'string') throw new GraphError(400, { message: '(#100) The parameter file is required.', type: 'OAuthException', code: 100 });
    const declared = typeof fields.get('type') === 'string' ? (fields.get('type') as string) : file.contentType;
    const info = imageInfo(file.bytes);
    if (!['image/jpeg', 'image/png'].includes(declared) || !info || info.type !== declared) {
      throw invalidParameter(`Param file must be a file with one of the following types: image/jpeg, image/png. Received file of type '${declared}'.`);
    }
    if (file.bytes.length > MAX_IMAGE_BYTES) throw invalidParameter('File too large: images are limited to 5 MB', 131053);
    const id = String(randomInt(100_000_000_000, 999_999_999_999));
    mediaStore.set(id, { bytes: file.bytes, mimeType: declared, phoneNumberId: state.config.id });
    return { id };
  }

  function customerMedia(state: NumberState, input: CustomerMediaInput): Promise<WaEvent> {
    const id = String(randomInt(100_000_000_000, 999_999_999_999));
    const mimeType = input.mimeType ?? (input.type === 'image' ? 'image/jpeg' : input.type === 'audio' ? 'audio/ogg; codecs=opus' : 'application/octet-stream');
    mediaStore.set(id, { bytes: input.bytes, mimeType, phoneNumberId: state.config.id, declareSize: input.declareSize ?? true });
    const media = {
      id,
      mime_type: mimeType,
      sha256: createHash('sha256').update(input.bytes).digest('base64'),
      ...(input.caption && input.type !== 'audio' ? { caption: input.caption } : {}),
      ...(input.fileName && input.type === 'document' ? { filename: input.fileName } : {}),
      ...(input.type === 'audio' ? { voice: true } : {}),
    };
    return customerEvent(state, input.from, input.name, { type: input.type, [input.type]: media });
  }

  /** GET /<version>/<media-id>: Meta's answer, for the number that received the media only. */
  function mediaInfo(request: IncomingMessage, mediaId: string): unknown {
    const stored = mediaStore.get(mediaId);
    const token = /^Bearer (\S+)$/.exec(request.headers.authorization ?? '')?.[1];
    if (!token || ![...numbers.values()].some((state) => state.config.accessToken === token)) {
      throw new GraphError(401, { message: 'Invalid OAuth access token - Cannot parse access token', type: 'OAuthException', code: 190 });
    }
    if (!stored || numbers.get(stored.phoneNumberId)?.config.accessToken !== token) {
      throw new GraphError(400, { message: `Unsupported get request. Object with ID '${mediaId}' does not exist, cannot be loaded due to missing permissions, or does not support this operation.`, type: 'GraphMethodException', code: 100, error_subcode: 33 });
    }
    return {
      messaging_product: 'whatsapp',
      url: `${listening.origin}/whatsapp_business/attachments/?mid=${mediaId}&ext=${Math.floor(nowMs() / 1000)}`,
      mime_type: stored.mimeType,
      sha256: createHash('sha256').update(stored.bytes).digest('hex'),
      ...(stored.declareSize === false ? {} : { file_size: stored.bytes.length }),
      id: mediaId,
    };
  }

  /** The media's bytes, in chunks with backpressure: a reader that stops early leaves the rest unwritten. */
  async function downloadMedia(request: IncomingMessage, response: ServerResponse, mediaId: string): Promise<void> {
    const stored = mediaStore.get(mediaId);
    const token = /^Bearer (\S+)$/.exec(request.headers.authorization ?? '')?.[1];
    if (!stored || !token || numbers.get(stored.phoneNumberId)?.config.accessToken !== token) {
      return sendJson(response, 404, { error: { message: 'Media not found or not authorised', type: 'OAuthException', code: 100 } });
    }
    const entry: WaMediaDownload = { mediaId, totalBytes: stored.bytes.length, bytesWritten: 0, completed: false };
    downloadLog.push(entry);
    response.writeHead(200, { 'content-type': stored.mimeType, ...(stored.declareSize === false ? {} : { 'content-length': String(stored.bytes.length) }) });
    let gone = false;
    response.on('close', () => {
      gone = true;
    });
    const CHUNK_BYTES = 64 * 1024;
    for (let offset = 0; offset < stored.bytes.length && !gone; offset += CHUNK_BYTES) {
      const chunk = stored.bytes.subarray(offset, offset + CHUNK_BYTES);
      entry.bytesWritten += chunk.length;
      if (!response.write(chunk)) {
        await new Promise<void>((resolve) => {
          const done = () => {
            response.off('drain', done);
            response.off('close', done);
            resolve();
          };
          response.on('drain', done);
          response.on('close', done);
        });
      }
    }
    if (!gone) {
      entry.completed = true;
      response.end();
    }
  }

  /** /_sim/... : the same controls as the handle, over HTTP, for `relais sim whatsapp-cloud`. */
  async function handleControl(request: IncomingMessage, response: ServerResponse, path: string): Promise<void> {
    await answerControl(response, async () => {
      const route = `${request.method} ${path}`;
      const known = (phoneNumberId: string) => {
        if (!numbers.has(phoneNumberId)) throw new ControlError(404, 'unknown phone number id');
        return numberOf(phoneNumberId);
      };
      if (route === 'POST /_sim/customer-texts') {
        const body = await readControlJson(request, controlTextSchema);
        return customerEvent(known(body.phoneNumberId), body.from, body.name, { type: 'text', text: { body: body.text } });
      }
      if (route === 'POST /_sim/customer-choices') {
        const body = await readControlJson(request, controlChoiceSchema);
        return choice(known(body.phoneNumberId), body);
      }
      if (route === 'GET /_sim/sent') return sentLog.map(({ image, ...message }) => ({ ...message, ...(image ? { image: { ...image, bytes: undefined } } : {}) }));
      throw new ControlError(404, 'unknown simulator control endpoint');
    });
  }

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://sim');
    const path = url.pathname;
    if (path.startsWith('/_sim/')) return handleControl(request, response, path);
    if (path === '/whatsapp_business/attachments/' && request.method === 'GET') return downloadMedia(request, response, url.searchParams.get('mid') ?? '');
    const entry: WaApiRequest = { method: request.method ?? 'GET', path, status: 0, at: new Date().toISOString() };
    requestLog.push(entry);
    const fbtraceId = randomBytes(8).toString('base64url');
    try {
      if (faults.latencyMs) await timers.pause(faults.latencyMs);
      const mediaId = request.method === 'GET' ? /^\/v\d+\.\d+\/(\d+)$/.exec(path)?.[1] : undefined;
      if (mediaId) {
        const info = mediaInfo(request, mediaId);
        entry.status = 200;
        return sendJson(response, 200, info);
      }
      const match = /^\/v\d+\.\d+\/(\d+)\/(messages|media)$/.exec(path);
      if (!match || request.method !== 'POST') throw new GraphError(400, { message: `Unsupported ${request.method} request.`, type: 'GraphMethodException', code: 100 });
      const injected = failNext.take((rule) => !rule.pathEndsWith || path.endsWith(rule.pathEndsWith));
      if (injected) throw new GraphError(injected.status, { message: injected.message ?? `(#${injected.code}) Injected failure (simulator)`, type: 'OAuthException', code: injected.code });
      const state = authenticate(request, match[1]!);
      const result = match[2] === 'messages' ? await handleSend(request, state) : await handleMediaUpload(request, state);
      entry.status = 200;
      sendJson(response, 200, result);
    } catch (error) {
      const failure = error instanceof GraphError ? error : error instanceof BodyTooLargeError ? invalidParameter('Request too large', 131053) : undefined;
      if (!failure) throw error;
      entry.status = failure.status;
      sendJson(response, failure.status, { error: { ...failure.error, fbtrace_id: fbtraceId } }, failure.status === 401 ? { 'www-authenticate': 'OAuth "Facebook Platform" "invalid_token"' } : {});
    }
  }

  const listening = await listen(handle, options, (response, error) =>
    sendJson(response, 500, { error: { message: `An unexpected error has occurred: ${(error as Error).message}`, type: 'OAuthException', code: 2 } }),
  );

  // ---- control ---------------------------------------------------------------------------------

  function choice(state: NumberState, input: CustomerChoiceInput): Promise<WaEvent> {
    const waId = input.from.replace(/^\+/, '');
    const candidates = sentLog.filter((message) => message.phoneNumberId === state.config.id && message.waId === waId && message.interactive);
    for (const message of candidates.reverse()) {
      const interactive = message.interactive!;
      const context = { from: state.config.displayPhoneNumber, id: message.id };
      if (interactive.type === 'button') {
        const button = interactive.action.buttons.find((candidate) => candidate.reply.id === input.choiceId);
        if (button) return customerEvent(state, input.from, input.name, { type: 'interactive', context, interactive: { type: 'button_reply', button_reply: { id: button.reply.id, title: button.reply.title } } });
      } else {
        const row = interactive.action.sections.flatMap((section) => section.rows).find((candidate) => candidate.id === input.choiceId);
        if (row) {
          const listReply = { id: row.id, title: row.title, ...(row.description !== undefined ? { description: row.description } : {}) };
          return customerEvent(state, input.from, input.name, { type: 'interactive', context, interactive: { type: 'list_reply', list_reply: listReply } });
        }
      }
    }
    return Promise.reject(new Error(`WhatsApp Cloud simulator: no interactive message to ${waId} offers "${input.choiceId}"`));
  }

  const copyMessage = (message: SentWaMessage): SentWaMessage => ({
    ...structuredClone({ ...message, image: undefined }),
    ...(message.image ? { image: { ...message.image, ...(message.image.bytes ? { bytes: Buffer.from(message.image.bytes) } : {}) } } : {}),
  });
  const matches = (message: SentWaMessage, filter: { phoneNumberId?: string; to?: string }) =>
    (!filter.phoneNumberId || message.phoneNumberId === filter.phoneNumberId) && (!filter.to || message.waId === filter.to.replace(/\D/g, ''));

  return {
    url: listening.origin,
    port: listening.port,
    addPhoneNumber,
    customerText: async (phoneNumberId, text) => customerEvent(numberOf(phoneNumberId), text.from, text.name, { type: 'text', text: { body: text.text } }),
    customerChoice: async (phoneNumberId, picked) => choice(numberOf(phoneNumberId), picked),
    customerMedia: async (phoneNumberId, media) => customerMedia(numberOf(phoneNumberId), media),
    async postStatus(wamid, status) {
      const message = sentLog.find((candidate) => candidate.id === wamid);
      if (!message) throw new Error(`WhatsApp Cloud simulator: no message ${wamid}`);
      const state = numberOf(message.phoneNumberId);
      return emit(state, 'status', statusEvent(state, message, status, status === 'failed' ? { ...REENGAGEMENT_ERROR, code: 131000, title: 'Something went wrong', message: 'Something went wrong', error_data: { details: 'Message failed to send (simulated).' } } : undefined));
    },
    async verifyWebhook(phoneNumberId, override = {}) {
      const config = numberOf(phoneNumberId).config;
      const url = override.url ?? config.webhookUrl;
      const verifyToken = override.verifyToken ?? config.verifyToken;
      if (!url || !verifyToken) throw new Error('WhatsApp Cloud simulator: verification needs a webhook url and a verify token');
      const challenge = String(randomInt(1_000_000_000, 2_000_000_000));
      const target = new URL(url);
      target.searchParams.set('hub.mode', 'subscribe');
      target.searchParams.set('hub.verify_token', verifyToken);
      target.searchParams.set('hub.challenge', challenge);
      const response = await fetch(target, { signal: AbortSignal.timeout(WEBHOOK_TIMEOUT_MS) });
      const body = await response.text();
      return { status: response.status, body, challenge, verified: response.status === 200 && body === challenge };
    },
    sent: (filter = {}) => sentLog.filter((message) => matches(message, filter)).map(copyMessage),
    waitForSent(filter = {}) {
      const count = filter.count ?? 1;
      const check = () => {
        const found = sentLog.filter((message) => matches(message, filter));
        return found.length >= count ? found.map(copyMessage) : undefined;
      };
      return waitFor(check, subscribe, filter.timeoutMs ?? 5_000, `${count} WhatsApp message(s)`);
    },
    media(mediaId) {
      const stored = mediaStore.get(mediaId);
      return stored ? { ...stored, bytes: Buffer.from(stored.bytes) } : undefined;
    },
    mediaDownloads: () => downloadLog.map((entry) => ({ ...entry })),
    deliveries: (phoneNumberId) => deliveryLog.filter((delivery) => !phoneNumberId || delivery.phoneNumberId === phoneNumberId).map((delivery) => ({ ...delivery })),
    requests: () => requestLog.map((entry) => ({ ...entry })),
    setFaults(update) {
      const parsed = waFaultsSchema.parse(update);
      faults = { ...faults, ...parsed };
      if (parsed.failNext !== undefined) failNext.set(parsed.failNext);
    },
    settled: () => inFlight.settled(),
    async close() {
      closed = true;
      closing.abort();
      timers.close();
      await listening.close();
      await inFlight.settled();
    },
  };
}

export type { WaEvent, WaInboundMessage, WaStatus } from './whatsapp-cloud-events.js';
