import { toPlainText } from '@relais/core';
import { USSD_MAX_SCREEN_CHARS } from './ussd-capabilities.js';

export interface UssdScreen {
  /** CON: the session stays open for an answer; END: the gateway closes it. */
  kind: 'CON' | 'END';
  text: string;
}

/** What Africa's Talking expects as the body (text/plain). */
export const ussdBody = (screen: UssdScreen) => `${screen.kind} ${screen.text}`;

/**
 * The replies of one turn as one screen: ASCII, within 182 characters. The engine renders each
 * reply to fit; when several together do not, the earliest go first (an acknowledgement such as
 * "language set" matters less than the menu or question that follows), then the text is cut.
 */
export function fitUssdScreen(texts: readonly string[], max = USSD_MAX_SCREEN_CHARS): string {
  const kept = texts.map((text) => toPlainText(text).trim()).filter(Boolean);
  while (kept.length > 1 && kept.join('\n').length > max) kept.shift();
  const screen = kept.join('\n');
  if (screen.length <= max) return screen;
  return `${screen.slice(0, max - 3).trimEnd()}...`;
}
