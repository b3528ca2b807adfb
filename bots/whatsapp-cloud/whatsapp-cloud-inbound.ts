import { timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import {
  AppError,
  findChannelAccountRoute,
  handleInboundMessage,
  loadChannelAccount,
  recordWhatsAppStatus,
  type Clock,
  type FileStore,
  type SecretBox,
  type WhatsAppStatusOutcome,
} from '@relais/core';
import type { Database } from '@relais/db';
import { WHATSAPP_CLOUD_CAPABILITIES } from './whatsapp-cloud-capabilities.js';
import { failureOfGraphError } from './whatsapp-cloud-errors.js';
import { textOfMessage, waMessagesValueSchema, waWebhookEventSchema, type WaInboundMessage, type WaMessagesValue, type WaStatus } from './whatsapp-cloud-events.js';
import { FileUnavailableError } from '../shared/download-inbound-file.js';
import { downloadWhatsAppCloudMedia, mediaOfMessage } from './whatsapp-cloud-media.js';
import { hubSignatureMatches } from './whatsapp-cloud-signature.js';

/** A channel account of this kind, opened (secrets in memory only). */
async function openAccount(deps: { db: Database; secrets: SecretBox }, channelAccountId: string) {
  const { tenantId, kind } = await findChannelAccountRoute(deps, channelAccountId);
  if (kind !== 'whatsapp_cloud') throw new AppError('NOT_FOUND', 'no such WhatsApp channel');
  const account = await loadChannelAccount(deps, { tenantId, channelAccountId });
  return account;
}

export const waVerificationQuerySchema = z.looseObject({
  'hub.mode': z.string().optional(),
  'hub.verify_token': z.string().optional(),
  // Meta sends digits; anything echoed stays short and inert.
  'hub.challenge': z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,200}$/)
    .optional(),
});

/**
 * Meta's subscription handshake: the challenge to echo when the mode is "subscribe" and the verify
 * token is the account's (constant-time); FORBIDDEN otherwise, and for an account with no verify token.
 */
export async function verifyWhatsAppCloudSubscription(deps: { db: Database; secrets: SecretBox }, options: { channelAccountId: string; query: unknown }): Promise<string> {
  const account = await openAccount(deps, options.channelAccountId);
  const query = waVerificationQuerySchema.safeParse(options.query);
  if (!query.success || query.data['hub.mode'] !== 'subscribe' || !query.data['hub.challenge']) throw new AppError('FORBIDDEN', 'verification refused');
  if (!sameSecret(account.secrets.verifyToken, query.data['hub.verify_token'])) throw new AppError('FORBIDDEN', 'verification refused');
  return query.data['hub.challenge'];
}

export interface WhatsAppCloudWebhookResult {
  /** Customer messages handed to the engine (duplicates included): replies may be waiting. */
  messages: number;
  statuses: { recorded: number; already_final: number; unknown_message: number };
  /** Entries skipped: another number's, or kinds we do not read (reactions, system notices). */
  ignored: number;
}

/** How long a status may wait for the delivery job to record the wamid it refers to. */
const STATUS_RECHECK_DELAYS_MS = [100, 200, 300, 400];

/** The engine's "cannot read this" answer: a replacement character marks the message unreadable, the type in brackets says what it was. */
const notTextPlaceholder = (type: string) => `[${type.slice(0, 20)}] \uFFFD`;
/** Not customer input: no answer (a reaction answered with "I cannot read this" would be silly). */
const SILENT_TYPES = new Set(['reaction', 'system', 'ephemeral', 'unsupported_reaction']);

/**
 * One signed event delivery to /webhooks/whatsapp/:channelId. The signature is checked on the raw
 * bytes before anything else (UNAUTHENTICATED, nothing stored); the body is then validated
 * (VALIDATION_FAILED, nothing stored). Each customer message becomes one engine turn (deduplicated
 * by wamid inside it); each status updates the outbound message it refers to. A message's media
 * is downloaded before its turn (a redelivery downloads it again; the turn's dedupe stores it once).
 */
export async function handleWhatsAppCloudWebhook(
  deps: { db: Database; clock: Clock; secrets: SecretBox; fileStore: FileStore; sleep?: (ms: number) => Promise<void> },
  options: { channelAccountId: string; signature: string | undefined; rawBody: Buffer },
): Promise<WhatsAppCloudWebhookResult> {
  const account = await openAccount(deps, options.channelAccountId);
  if (!hubSignatureMatches(options.rawBody, options.signature, account.secrets.appSecret ?? '')) throw new AppError('UNAUTHENTICATED', 'bad X-Hub-Signature-256');

  let json: unknown;
  try {
    json = JSON.parse(options.rawBody.toString('utf8'));
  } catch {
    throw new AppError('VALIDATION_FAILED', 'the event body is not JSON');
  }
  const event = waWebhookEventSchema.safeParse(json);
  if (!event.success) throw new AppError('VALIDATION_FAILED', 'not a WhatsApp Business Account event', { details: { issues: issuePaths(event.error) } });
  // Every "messages" change is validated before any is handled: a malformed event stores nothing.
  const values: WaMessagesValue[] = [];
  let ignored = 0;
  for (const entry of event.data.entry) {
    for (const change of entry.changes) {
      if (change.field !== 'messages') {
        ignored += 1;
        continue;
      }
      const value = waMessagesValueSchema.safeParse(change.value);
      if (!value.success) throw new AppError('VALIDATION_FAILED', 'malformed WhatsApp messages change', { details: { issues: issuePaths(value.error) } });
      // One Meta app may serve several numbers: only this account's number is ours to answer here.
      if (account.externalId && value.data.metadata.phone_number_id !== account.externalId) {
        ignored += 1;
        continue;
      }
      values.push(value.data);
    }
  }

  const result: WhatsAppCloudWebhookResult = { messages: 0, statuses: { recorded: 0, already_final: 0, unknown_message: 0 }, ignored };
  for (const value of values) {
    for (const message of value.messages ?? []) {
      if (SILENT_TYPES.has(message.type)) {
        result.ignored += 1;
        continue;
      }
      // A photo, document or voice note: downloaded (capped) here, judged by core; its caption is the text.
      // Media Graph will never give (unknown, expired) is answered like any message we cannot read.
      const media = mediaOfMessage(message);
      const file = media ? await downloadWhatsAppCloudMedia(account, media).catch(unlessUnavailable) : undefined;
      await handleInboundMessage(deps, {
        tenantId: account.tenantId,
        channelAccountId: account.id,
        sender: senderOf(message, value),
        providerMessageId: message.id,
        text: media && file ? (media.caption ?? '') : (textOfMessage(message) ?? notTextPlaceholder(message.type)),
        ...(file ? { file } : {}),
        receivedAt: new Date(Number(message.timestamp) * 1000),
        capabilities: WHATSAPP_CLOUD_CAPABILITIES,
      });
      result.messages += 1;
    }
    for (const status of value.statuses ?? []) {
      const outcome = await recordStatus(deps, account, status);
      if (outcome) result.statuses[outcome] += 1;
      else result.ignored += 1;
    }
  }
  return result;
}

function unlessUnavailable(error: unknown): undefined {
  if (error instanceof FileUnavailableError) return undefined;
  throw error;
}

function senderOf(message: WaInboundMessage, value: WaMessagesValue) {
  const name = value.contacts?.find((contact) => contact.wa_id === message.from)?.profile?.name;
  // wa_id is the number with its country code, without "+".
  const phoneE164 = /^[1-9]\d{6,14}$/.test(message.from) ? `+${message.from}` : undefined;
  return { externalId: message.from, ...(phoneE164 ? { phoneE164 } : {}), ...(name ? { name: name.slice(0, 200) } : {}) };
}

const STATUSES = new Set(['sent', 'delivered', 'read', 'failed']);

async function recordStatus(
  deps: { db: Database; clock: Clock; sleep?: (ms: number) => Promise<void> },
  account: { tenantId: string; id: string },
  status: WaStatus,
): Promise<WhatsAppStatusOutcome | undefined> {
  if (!STATUSES.has(status.status)) return undefined;
  const error = status.errors?.[0];
  const record = () =>
    recordWhatsAppStatus(deps, {
      tenantId: account.tenantId,
      channelAccountId: account.id,
      providerMessageId: status.id,
      status: status.status as 'sent' | 'delivered' | 'read' | 'failed',
      ...(status.status === 'failed' ? { reason: error ? failureOfGraphError(error.code, error.title ?? error.message).reason.slice(0, 200) : 'WhatsApp gave no error' } : {}),
    });
  let outcome = await record();
  // Meta may post a status before the delivery job has written the wamid it got back: look again, briefly.
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  for (const delayMs of STATUS_RECHECK_DELAYS_MS) {
    if (outcome !== 'unknown_message') break;
    await sleep(delayMs);
    outcome = await record();
  }
  return outcome;
}

function sameSecret(expected: string | undefined, given: string | undefined): boolean {
  if (!expected || given === undefined) return false;
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Where the body is wrong, never what it holds (customer texts and numbers stay out of logs). */
function issuePaths(error: z.ZodError): string[] {
  return error.issues.slice(0, 5).map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.code}`);
}
