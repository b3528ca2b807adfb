/**
 * Graph API error codes as a delivery decision. Permanent: sending the same message again cannot
 * succeed (bad recipient, outside the 24-hour window, bad parameter, refused token — a tenant must
 * fix the account first). Everything else (rate limits, Meta's temporary errors, 5xx) is retried
 * with the delivery queue's backoff.
 */
const PERMANENT_CODES = new Set([
  100, // invalid parameter / object the token cannot reach
  190, // access token expired or invalid
  10, // permission denied
  200, // permission error
  131008, // required parameter missing
  131009, // parameter value not valid
  131021, // recipient cannot be the sender
  131026, // message undeliverable (not on WhatsApp, old app, not accepted terms)
  131047, // re-engagement: more than 24 h since the customer last wrote
  131051, // unsupported message type
  131052, // media download error (the customer's media)
  131053, // media upload error (our file)
  368, // temporarily blocked for policy violations: retrying makes it worse
  131031, // account locked
]);

/** Rate limits: the queue's backoff applies (Graph gives no retry-after). */
const RATE_LIMIT_CODES = new Set([4, 80007, 130429, 131048, 131056]);

export const OUTSIDE_WINDOW_REASON =
  'WhatsApp 131047: outside the 24-hour window — the customer last wrote more than 24 h ago; only a template message can reach them now';

export interface GraphFailure {
  permanent: boolean;
  rateLimited?: boolean;
  /** Safe to store and log: the code and Meta's short title, never a token. */
  reason: string;
}

export function failureOfGraphError(code: number | undefined, title: string | undefined, httpStatus?: number): GraphFailure {
  if (code === 131047) return { permanent: true, reason: OUTSIDE_WINDOW_REASON };
  // Meta's text for token errors may quote part of the token: say it in our own words.
  if (code === 190) return { permanent: true, reason: 'WhatsApp 190: the access token was refused (expired or revoked); update the channel account' };
  const what = `WhatsApp ${code ?? httpStatus ?? 'error'}${title ? `: ${redact(title).slice(0, 160)}` : ''}`;
  if (code !== undefined && RATE_LIMIT_CODES.has(code)) return { permanent: false, rateLimited: true, reason: what };
  if (httpStatus !== undefined && httpStatus >= 500) return { permanent: false, reason: what };
  if (code !== undefined && PERMANENT_CODES.has(code)) return { permanent: true, reason: what };
  return { permanent: false, reason: what };
}

/** Long opaque strings (tokens, keys) blanked: errors are stored in last_error and logged. */
function redact(text: string): string {
  return text.replace(/[A-Za-z0-9_\-.]{40,}/g, '[redacted]');
}
