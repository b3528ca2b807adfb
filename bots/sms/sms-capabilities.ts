import type { ChannelCapabilities, SendLimits } from '@relais/core';

/** Three concatenated GSM-7 parts of 153 characters: longer texts are cut by the engine, never sent as a fourth paid part. */
export const SMS_MAX_TEXT_LENGTH = 3 * 153;

/** A phone's SMS: plain GSM-7 text, numbered choices ("2" maps back), no images, pushed after the request. */
export const SMS_CAPABILITIES: ChannelCapabilities = {
  buttons: false,
  maxButtons: 0,
  images: false,
  maxTextLength: SMS_MAX_TEXT_LENGTH,
  plainTextOnly: true,
  replyInSession: false,
};

/**
 * Africa's Talking publishes no per-number limit; one a second per phone keeps a conversation's
 * SMS in order on the handset, and 20 a second per account stays far below what an account sends.
 */
export const SMS_LIMITS: SendLimits = { perChatPerSecond: 1, perAccountPerSecond: 20 };
