import type { ChannelCapabilities, SendLimits } from '@relais/core';

/**
 * What a WhatsApp chat reached through Baileys (a linked device) shows: text and images with
 * captions. No buttons: WhatsApp drops or hides interactive messages sent from non-business
 * clients, so choices go out as a numbered list and "2" maps back.
 */
export const WHATSAPP_CAPABILITIES: ChannelCapabilities = {
  buttons: false,
  maxButtons: 0,
  images: true,
  maxTextLength: 4096,
  plainTextOnly: false,
  replyInSession: false,
};

/**
 * Slow on purpose: an unofficial client that sends like a machine gets the number banned
 * (reports of 429 near 3 msgs/s). One message every 2 s per chat, one a second per number,
 * plus up to 1.5 s of random spacing so sends do not look timed.
 */
export const WHATSAPP_LIMITS: SendLimits = { perChatPerSecond: 0.5, perAccountPerSecond: 1, jitterMs: 1_500 };

/** Longest caption we put under an image; a longer text follows the image as its own message. */
export const WHATSAPP_MAX_CAPTION_LENGTH = 1024;
