import type { ChannelCapabilities } from '@relais/core';

/**
 * What the web chat page shows: buttons for every choice, images, long texts. Replies are read
 * by polling, so they are "sent" as soon as they are written.
 */
export const WEBCHAT_CAPABILITIES: ChannelCapabilities = {
  buttons: true,
  maxButtons: 12,
  images: true,
  maxTextLength: 4000,
  plainTextOnly: false,
  replyInSession: true,
};
