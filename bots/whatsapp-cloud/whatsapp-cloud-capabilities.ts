import type { ChannelCapabilities, SendLimits } from '@relais/core';

/**
 * What a WhatsApp Cloud API chat shows: interactive reply buttons (up to 3) and lists (up to 10
 * rows), images with captions, 4096-character texts. Past 10 choices the engine writes a numbered list.
 */
export const WHATSAPP_CLOUD_CAPABILITIES: ChannelCapabilities = {
  buttons: true,
  maxButtons: 10,
  images: true,
  maxTextLength: 4096,
  plainTextOnly: false,
  replyInSession: false,
};

/**
 * About 80 messages per second per business number (Meta's default throughput). One chat gets
 * about one a second: Meta tolerates short bursts to one user but penalises sustained ones
 * (131056). A little jitter so our sends do not look machine-timed.
 */
export const WHATSAPP_CLOUD_LIMITS: SendLimits = { perChatPerSecond: 1, perAccountPerSecond: 80, jitterMs: 10 };

export const WA_MAX_TEXT_LENGTH = 4096;
export const WA_MAX_BODY_LENGTH = 1024;
export const WA_MAX_CAPTION_LENGTH = 1024;
export const WA_MAX_REPLY_BUTTONS = 3;
export const WA_MAX_BUTTON_TITLE_LENGTH = 20;
export const WA_MAX_LIST_ROWS = 10;
export const WA_MAX_ROW_TITLE_LENGTH = 24;
export const WA_MAX_ROW_DESCRIPTION_LENGTH = 72;
export const WA_MAX_BUTTON_ID_LENGTH = 256;
export const WA_MAX_ROW_ID_LENGTH = 200;

export const DEFAULT_GRAPH_BASE_URL = 'https://graph.facebook.com';
export const DEFAULT_GRAPH_VERSION = 'v21.0';
