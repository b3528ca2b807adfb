import { ChannelSendError, type ChannelSender, type OutboundMessageBody, type SendLimits, type SendRequest, type SendResult } from '@relais/core';
import {
  DEFAULT_GRAPH_BASE_URL,
  DEFAULT_GRAPH_VERSION,
  WA_MAX_BODY_LENGTH,
  WA_MAX_BUTTON_ID_LENGTH,
  WA_MAX_BUTTON_TITLE_LENGTH,
  WA_MAX_CAPTION_LENGTH,
  WA_MAX_LIST_ROWS,
  WA_MAX_REPLY_BUTTONS,
  WA_MAX_ROW_DESCRIPTION_LENGTH,
  WA_MAX_ROW_ID_LENGTH,
  WA_MAX_ROW_TITLE_LENGTH,
  WA_MAX_TEXT_LENGTH,
  WHATSAPP_CLOUD_CAPABILITIES,
  WHATSAPP_CLOUD_LIMITS,
} from './whatsapp-cloud-capabilities.js';
import { failureOfGraphError } from './whatsapp-cloud-errors.js';

export interface WhatsAppCloudSenderOptions {
  /** The number's id in Graph paths (channel_accounts.external_id). */
  phoneNumberId: string;
  accessToken: string;
  /** Default https://graph.facebook.com; tests and demo mode point it at the simulator. */
  baseUrl?: string;
  /** Default v21.0. */
  graphVersion?: string;
  timeoutMs?: number;
  limits?: SendLimits;
}

const DEFAULT_TIMEOUT_MS = 15_000;
/** The list's open button: the adapter does not know the customer's language, so both. */
const LIST_BUTTON_LABEL = 'Choisir / Choose';
const FILE_EXTENSIONS: Record<string, string> = { 'image/png': 'png', 'image/jpeg': 'jpg' };

type GraphMessage = Record<string, unknown>;

/**
 * Sends conversation messages through one WhatsApp Cloud API number: up to 3 choices as reply
 * buttons, 4 to 10 as a list, more as a numbered text; an image is uploaded to /media and sent
 * with the text as caption. Errors become ChannelSendError from Graph's code and title only.
 */
export function createWhatsAppCloudSender(options: WhatsAppCloudSenderOptions): ChannelSender {
  const version = (options.graphVersion ?? DEFAULT_GRAPH_VERSION).replace(/^v?/, 'v');
  const root = `${(options.baseUrl ?? DEFAULT_GRAPH_BASE_URL).replace(/\/+$/, '')}/${version}/${encodeURIComponent(options.phoneNumberId)}`;
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const authorization = `Bearer ${options.accessToken}`;

  async function call(path: 'messages' | 'media', body: string | FormData): Promise<Record<string, unknown>> {
    let response: Response;
    try {
      response = await fetch(`${root}/${path}`, {
        method: 'POST',
        headers: { authorization, ...(typeof body === 'string' ? { 'content-type': 'application/json' } : {}) },
        body,
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (error) {
      const name = error instanceof Error ? error.name : 'Error';
      if (name === 'TimeoutError' || name === 'AbortError') throw new ChannelSendError('WhatsApp did not answer in time', { permanent: false });
      const code = ((error as { cause?: { code?: unknown } }).cause ?? {}).code;
      throw new ChannelSendError(`WhatsApp unreachable${typeof code === 'string' ? ` (${code})` : ''}`, { permanent: false });
    }
    const json = (await response.json().catch(() => undefined)) as { error?: { code?: number; message?: string } } | Record<string, unknown> | undefined;
    if (response.ok && json) return json as Record<string, unknown>;
    const graphError = (json as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
    const failure = failureOfGraphError(
      typeof graphError?.code === 'number' ? graphError.code : undefined,
      typeof graphError?.message === 'string' ? graphError.message : undefined,
      response.status,
    );
    throw new ChannelSendError(failure.reason, { permanent: failure.permanent });
  }

  async function sendMessage(to: string, message: GraphMessage): Promise<string | undefined> {
    const answer = await call('messages', JSON.stringify({ messaging_product: 'whatsapp', recipient_type: 'individual', to, ...message }));
    const id = (answer.messages as { id?: unknown }[] | undefined)?.[0]?.id;
    return typeof id === 'string' ? id : undefined;
  }

  async function uploadImage(bytes: Buffer, mimeType: string): Promise<string> {
    const form = new FormData();
    form.set('messaging_product', 'whatsapp');
    form.set('type', mimeType);
    form.set('file', new Blob([new Uint8Array(bytes)], { type: mimeType }), `image.${FILE_EXTENSIONS[mimeType] ?? 'png'}`);
    const answer = await call('media', form);
    if (typeof answer.id !== 'string') throw new ChannelSendError('WhatsApp media upload gave no id', { permanent: false });
    return answer.id;
  }

  return {
    capabilities: WHATSAPP_CLOUD_CAPABILITIES,
    limits: options.limits ?? WHATSAPP_CLOUD_LIMITS,
    async send(request: SendRequest): Promise<SendResult> {
      const to = request.recipient.replace(/^\+/, '');
      const parts: (() => Promise<GraphMessage>)[] = [];
      const { image } = request.body;
      let rest: OutboundMessageBody | undefined = request.body;
      if (image && request.imageBytes) {
        const imageBytes = request.imageBytes;
        const hasChoices = Boolean(request.body.choices?.length);
        const captionIsText = !hasChoices && request.body.text.length <= WA_MAX_CAPTION_LENGTH;
        const caption = captionIsText ? request.body.text : image.alt;
        parts.push(async () => ({ type: 'image', image: { id: await uploadImage(imageBytes, image.mimeType), ...(caption ? { caption: truncate(caption, WA_MAX_CAPTION_LENGTH) } : {}) } }));
        // The text (and its choices) follow the image when they did not fit as its caption.
        rest = captionIsText ? undefined : { text: request.body.text, ...(request.body.choices ? { choices: request.body.choices } : {}) };
      }
      if (rest) parts.push(...messagesOf(rest).map((message) => async () => message));
      // Several parts: a retry after a partial failure sends the first ones again (at-least-once).
      let providerMessageId: string | undefined;
      for (const part of parts) providerMessageId = (await sendMessage(to, await part())) ?? providerMessageId;
      return { providerMessageId };
    },
  };
}

/** The Graph message(s) for a text with optional choices. */
function messagesOf(body: OutboundMessageBody): GraphMessage[] {
  const choices = body.choices ?? [];
  if (choices.length === 0 || choices.length > WA_MAX_LIST_ROWS || choices.some((choice) => choice.id.length > WA_MAX_ROW_ID_LENGTH)) {
    const list = choices.map((choice, index) => `${index + 1}. ${choice.label}`).join('\n');
    return [textMessage(list ? `${body.text}\n${list}` : body.text)];
  }
  const messages: GraphMessage[] = [];
  let bodyText = body.text.trim();
  if (bodyText.length > WA_MAX_BODY_LENGTH) {
    // Too long for an interactive body: the text alone, then its last paragraph with the choices.
    messages.push(textMessage(bodyText));
    bodyText = truncate(bodyText.split(/\n\s*\n/).at(-1)!.trim(), WA_MAX_BODY_LENGTH);
  }
  if (!bodyText) bodyText = '…';
  if (choices.length <= WA_MAX_REPLY_BUTTONS && choices.every((choice) => choice.id.length <= WA_MAX_BUTTON_ID_LENGTH)) {
    messages.push({
      type: 'interactive',
      interactive: {
        type: 'button',
        body: { text: bodyText },
        action: { buttons: titlesOf(choices, WA_MAX_BUTTON_TITLE_LENGTH).map(({ id, title }) => ({ type: 'reply', reply: { id, title } })) },
      },
    });
    return messages;
  }
  const rows = titlesOf(choices, WA_MAX_ROW_TITLE_LENGTH).map(({ id, title, label }) => ({
    id,
    title,
    // A label cut to fit the title is shown whole underneath.
    ...(title !== label ? { description: truncate(label, WA_MAX_ROW_DESCRIPTION_LENGTH) } : {}),
  }));
  messages.push({ type: 'interactive', interactive: { type: 'list', body: { text: bodyText }, action: { button: LIST_BUTTON_LABEL, sections: [{ rows }] } } });
  return messages;
}

function textMessage(text: string): GraphMessage {
  return { type: 'text', text: { body: truncate(text, WA_MAX_TEXT_LENGTH), preview_url: false } };
}

/** Labels cut to what Meta shows on a button or list row. */
function titlesOf(choices: { id: string; label: string }[], max: number): { id: string; title: string; label: string }[] {
  return choices.map((choice) => ({ id: choice.id, label: choice.label, title: truncate(choice.label.trim() || choice.id, max) }));
}

/** Cut to `max` characters (code points: Meta counts characters, not UTF-16 units). */
function truncate(text: string, max: number): string {
  const characters = [...text];
  if (characters.length <= max) return text;
  return `${characters
    .slice(0, max - 1)
    .join('')
    .trimEnd()}…`;
}
