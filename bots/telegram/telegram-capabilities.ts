import type { ChannelCapabilities, SendLimits } from '@relais/core';

/** What a Telegram chat shows: inline keyboards, photos with captions, 4096-character texts. */
export const TELEGRAM_CAPABILITIES: ChannelCapabilities = {
  buttons: true,
  // Telegram takes up to 100; past 10 rows a phone screen scrolls, so longer lists become text.
  maxButtons: 10,
  images: true,
  maxTextLength: 4096,
  plainTextOnly: false,
  replyInSession: false,
};

/** Telegram's published guidance: about 1 message per second in one chat, about 30 per second per bot. */
export const TELEGRAM_LIMITS: SendLimits = { perChatPerSecond: 1, perAccountPerSecond: 30 };

/** Longest photo caption Telegram accepts; a longer text goes in its own message after the photo. */
export const TELEGRAM_MAX_CAPTION_LENGTH = 1024;
/** callback_data is at most 64 bytes. */
export const TELEGRAM_MAX_CALLBACK_DATA_BYTES = 64;
