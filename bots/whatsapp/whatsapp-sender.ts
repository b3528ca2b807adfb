import { ChannelSendError, type ChannelSender, type SendLimits, type SendRequest, type SendResult } from '@relais/core';
import { WHATSAPP_CAPABILITIES, WHATSAPP_LIMITS, WHATSAPP_MAX_CAPTION_LENGTH } from './whatsapp-capabilities.js';
import type { WhatsAppSocket } from './whatsapp-socket.js';

/** WhatsApp asks a sender flooding it to slow down (429 "rate-overlimit"): a minute's pause for the chat. */
const RATE_LIMITED_RETRY_MS = 60_000;

/**
 * Sends conversation messages on one WhatsApp number through its live Baileys socket: text
 * (choices are already a numbered list: no buttons), an image with the text as caption. The
 * socket exists only in the process holding the number's lease; elsewhere, and while the number
 * reconnects, the send fails retryably and the delivery queue tries again with backoff.
 */
export function createWhatsAppSender(options: { socketOf: () => WhatsAppSocket | undefined; limits?: SendLimits }): ChannelSender {
  return {
    capabilities: WHATSAPP_CAPABILITIES,
    limits: options.limits ?? WHATSAPP_LIMITS,
    async send(request: SendRequest): Promise<SendResult> {
      const jid = jidOf(request.recipient);
      const socket = options.socketOf();
      if (!socket) throw new ChannelSendError('WhatsApp number not connected in this process (reconnecting, or held by another process)', { permanent: false });
      const text = withNumberedChoices(request);
      try {
        if (request.body.image && request.imageBytes) {
          const mimetype = request.body.image.mimeType;
          if (text.length <= WHATSAPP_MAX_CAPTION_LENGTH) {
            const sent = await socket.sendMessage(jid, { image: request.imageBytes, caption: text, mimetype });
            return { providerMessageId: sent?.key.id ?? undefined };
          }
          // Too long for a caption: the image with its alternative text, then the text.
          await socket.sendMessage(jid, { image: request.imageBytes, caption: request.body.image.alt.slice(0, WHATSAPP_MAX_CAPTION_LENGTH), mimetype });
        }
        const sent = await socket.sendMessage(jid, { text });
        return { providerMessageId: sent?.key.id ?? undefined };
      } catch (error) {
        throw toSendError(error);
      }
    },
  };
}

/** Choices left as choices (no channel sets buttons here, but a body may still carry them) become numbered lines. */
function withNumberedChoices(request: SendRequest): string {
  const { text, choices } = request.body;
  if (!choices || choices.length === 0) return text;
  return `${text}\n${choices.map((choice, index) => `${index + 1}. ${choice.label}`).join('\n')}`;
}

/** The customer's jid as the adapter stored it, or a bare number as a phone-number jid. */
function jidOf(recipient: string): string {
  if (/^[^@\s]+@(s\.whatsapp\.net|lid)$/.test(recipient)) return recipient;
  const digits = recipient.replace(/^\+/, '');
  if (/^[1-9]\d{6,14}$/.test(digits)) return `${digits}@s.whatsapp.net`;
  throw new ChannelSendError('not a WhatsApp chat address (expected a number or a user jid)', { permanent: true });
}

function toSendError(error: unknown): ChannelSendError {
  if (error instanceof ChannelSendError) return error;
  // Baileys throws Boom errors: a status code and a short text, never our message's content.
  const boom = error as { output?: { statusCode?: unknown }; message?: unknown } | null;
  const code = typeof boom?.output?.statusCode === 'number' ? boom.output.statusCode : undefined;
  const what = `WhatsApp ${code ?? 'error'}${typeof boom?.message === 'string' ? `: ${boom.message.slice(0, 120)}` : ''}`;
  if (code === 429) return new ChannelSendError(what, { permanent: false, retryAfterMs: RATE_LIMITED_RETRY_MS });
  // Closed or timed-out sockets, WhatsApp's own trouble: the next try (maybe after a reconnect) may pass.
  return new ChannelSendError(what, { permanent: false });
}
