import type { ChannelCapabilities } from '@relais/core';

/** Handsets and gateways cut or refuse longer screens. */
export const USSD_MAX_SCREEN_CHARS = 182;

/**
 * A USSD screen: plain ASCII, numbered choices, one short screen, answered in the request (CON /
 * END). Sessions end, so what the conversation says later (payment prompt, voucher, failure) is
 * pushed as an SMS through the account's Africa's Talking app (bots/ussd/README.md).
 */
export const USSD_CAPABILITIES: ChannelCapabilities = {
  buttons: false,
  maxButtons: 0,
  images: false,
  maxTextLength: USSD_MAX_SCREEN_CHARS,
  plainTextOnly: true,
  replyInSession: true,
  pushOutsideSession: true,
};
