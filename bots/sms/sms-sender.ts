import { z } from 'zod';
import { ChannelSendError, toPlainText, type ChannelSender, type OutboundMessageBody, type SendLimits, type SendRequest, type SendResult } from '@relais/core';
import { E164 } from './africastalking-account.js';
import { SMS_CAPABILITIES, SMS_LIMITS } from './sms-capabilities.js';

export interface AfricasTalkingSmsSenderOptions {
  /** https://api.africastalking.com, the sandbox host, or a simulator: per account, never process-wide. */
  baseUrl: string;
  username: string;
  apiKey: string;
  senderId?: string;
  timeoutMs?: number;
  limits?: SendLimits;
}

const DEFAULT_TIMEOUT_MS = 10_000;
const PROVIDER_TEXT_MAX_CHARS = 120;

/** The part of the JSON answer we read (HTTP 201). */
const sendResponseSchema = z.looseObject({
  SMSMessageData: z.looseObject({
    Message: z.string().optional(),
    Recipients: z.array(z.looseObject({ statusCode: z.coerce.number().int(), status: z.string().optional(), messageId: z.string().optional() })),
  }),
});

/**
 * Recipient status codes that are accepted (100 Processed, 101 Sent, 102 Queued), and the
 * refusals that may pass on their own (401 RiskHold, 405 InsufficientBalance: the tenant tops up);
 * every other 4xx (invalid number, sender id, blacklist, do-not-disturb) cannot succeed later.
 */
const ACCEPTED_CODES = new Set([100, 101, 102]);
const TRANSIENT_RECIPIENT_CODES = new Set([401, 405]);

/**
 * Sends conversation messages as SMS through Africa's Talking's messaging API with fetch, not
 * the SDK: the SDK's `sandbox` username rewrites its URLs for the whole process, and a
 * multi-tenant process cannot have one tenant's sandbox redirect everyone's SMS. Errors are
 * built from HTTP statuses and Africa's Talking's own words only; the API key travels in a header
 * and is never quoted.
 */
export function createAfricasTalkingSmsSender(options: AfricasTalkingSmsSenderOptions): ChannelSender {
  const url = `${options.baseUrl.replace(/\/+$/, '')}/version1/messaging`;
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  return {
    capabilities: SMS_CAPABILITIES,
    limits: options.limits ?? SMS_LIMITS,
    async send(request: SendRequest): Promise<SendResult> {
      if (!E164.test(request.recipient)) throw new ChannelSendError('the recipient is not an E.164 phone number', { permanent: true });
      const message = smsTextOf(request.body);
      if (!message) throw new ChannelSendError('nothing to send: empty text', { permanent: true });
      const form = new URLSearchParams({ username: options.username, to: request.recipient, message, ...(options.senderId ? { from: options.senderId } : {}) });
      let response: Response;
      try {
        response = await fetch(url, {
          method: 'POST',
          headers: { apiKey: options.apiKey, accept: 'application/json', 'content-type': 'application/x-www-form-urlencoded' },
          body: form.toString(),
          signal: AbortSignal.timeout(timeoutMs),
        });
      } catch (error) {
        throw unreachable(error);
      }
      const text = await response.text().catch(() => '');
      if (response.status !== 201) throw httpError(response, text);
      let recipient: z.output<typeof sendResponseSchema>['SMSMessageData']['Recipients'][number] | undefined;
      try {
        recipient = sendResponseSchema.parse(JSON.parse(text)).SMSMessageData.Recipients[0];
      } catch {
        // Accepted (201) but unreadable: retrying could send it twice; the customer most likely has it.
        return {};
      }
      if (!recipient) throw new ChannelSendError("Africa's Talking accepted no recipient", { permanent: true });
      if (ACCEPTED_CODES.has(recipient.statusCode)) return recipient.messageId && recipient.messageId !== 'None' ? { providerMessageId: recipient.messageId } : {};
      const what = `Africa's Talking recipient ${recipient.statusCode} ${safeProviderText(recipient.status ?? '')}`.trim();
      const permanent = recipient.statusCode >= 400 && recipient.statusCode < 500 && !TRANSIENT_RECIPIENT_CODES.has(recipient.statusCode);
      throw new ChannelSendError(what, { permanent });
    },
  };
}

/** The message as GSM-7 text: the engine renders ASCII already; "`" is the one ASCII character GSM-7 lacks. */
function smsTextOf(body: OutboundMessageBody): string {
  const list = body.choices?.length ? `\n${body.choices.map((choice, index) => `${index + 1}. ${choice.label}`).join('\n')}` : '';
  return toPlainText(`${body.text}${list}`).replaceAll('`', "'").trim();
}

function httpError(response: Response, text: string): ChannelSendError {
  const what = `Africa's Talking HTTP ${response.status}: ${safeProviderText(text)}`.trim();
  if (response.status === 429) {
    const seconds = Number(response.headers.get('retry-after'));
    return new ChannelSendError(what, { permanent: false, ...(Number.isFinite(seconds) && seconds > 0 ? { retryAfterMs: seconds * 1000 } : {}) });
  }
  // 401: a key or username the tenant can fix, so the message waits; 5xx: theirs, try again.
  if (response.status >= 500 || response.status === 401 || response.status === 408) return new ChannelSendError(what, { permanent: false });
  // 400 and the rest: this request cannot succeed as written.
  return new ChannelSendError(what, { permanent: true });
}

function unreachable(error: unknown): ChannelSendError {
  const name = error instanceof Error ? error.name : 'Error';
  if (name === 'AbortError' || name === 'TimeoutError') return new ChannelSendError("Africa's Talking did not answer in time", { permanent: false });
  const code = ((error as { cause?: { code?: unknown } } | null)?.cause?.code ?? (error as { code?: unknown } | null)?.code) as unknown;
  // Only the error code: the request itself (headers) is never described.
  return new ChannelSendError(`Africa's Talking unreachable${typeof code === 'string' ? ` (${code})` : ''}`, { permanent: false });
}

/** Africa's Talking's own error text, one line, short, no XML or long tokens. */
function safeProviderText(text: string): string {
  return text
    .split('\n')[0]!
    .replace(/<[^>]*>/g, ' ')
    .replace(/[A-Za-z0-9_\-+/=]{32,}/g, '[redacted]')
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, PROVIDER_TEXT_MAX_CHARS);
}
