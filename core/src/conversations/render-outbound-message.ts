import type { ChannelCapabilities, OutboundMessageBody } from '../shared/ports/channel-sender.js';

/** Characters plain-text channels get instead of typographic ones (GSM-7 has none of these). */
const PLAIN_REPLACEMENTS: [RegExp, string][] = [
  [/[\u2018\u2019\u201B\u2032]/g, "'"],
  // French quotes carry (no-break) spaces inside: « menu » reads "menu".
  [/\u00AB[\s\u00A0\u202F]*/g, '"'],
  [/[\s\u00A0\u202F]*\u00BB/g, '"'],
  [/[\u201C\u201D]/g, '"'],
  [/[\u2013\u2014]/g, '-'],
  [/\u2026/g, '...'],
  [/[\u00A0\u202F]/g, ' '],
];

/** ASCII only: accents dropped, typographic punctuation replaced, anything else (emoji) removed. */
export function toPlainText(text: string): string {
  let plain = text;
  for (const [pattern, replacement] of PLAIN_REPLACEMENTS) plain = plain.replace(pattern, replacement);
  return plain
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^\x20-\x7E\n]/g, '')
    .replace(/ {2,}/g, ' ');
}

function truncate(text: string, maxLength: number, ellipsis: string): string {
  if (text.length <= maxLength) return text;
  if (maxLength <= ellipsis.length) return text.slice(0, maxLength);
  return text.slice(0, maxLength - ellipsis.length).trimEnd() + ellipsis;
}

/**
 * A message as the channel can show it, decided by its capabilities alone: choices stay buttons
 * where the channel has enough of them, else become a numbered list ("2" maps back, see
 * matchChoice); an image becomes its text alternative where images cannot be sent; plain-text
 * channels get ASCII; the text fits the channel's length, the list of choices kept whole when it can.
 */
export function renderOutboundMessage(message: OutboundMessageBody, capabilities: ChannelCapabilities): OutboundMessageBody {
  const plain = capabilities.plainTextOnly ? toPlainText : (text: string) => text;
  const ellipsis = capabilities.plainTextOnly ? '...' : '…';
  let text = plain(message.text);
  let list = '';
  let choices = message.choices?.length ? message.choices.map((choice) => ({ id: choice.id, label: plain(choice.label) })) : undefined;
  if (choices && (!capabilities.buttons || choices.length > capabilities.maxButtons)) {
    list = choices.map((choice, index) => `${index + 1}. ${choice.label}`).join('\n');
    choices = undefined;
  }
  let image = message.image;
  if (image && !capabilities.images) {
    text = `${text}\n${plain(image.alt)}`;
    image = undefined;
  }
  const max = capabilities.maxTextLength;
  if (list) {
    text = list.length + 1 < max ? `${truncate(text, max - list.length - 1, ellipsis)}\n${list}` : truncate(`${text}\n${list}`, max, ellipsis);
  } else {
    text = truncate(text, max, ellipsis);
  }
  return { text, ...(choices ? { choices } : {}), ...(image ? { image } : {}) };
}
