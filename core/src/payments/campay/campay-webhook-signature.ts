import { createHmac, timingSafeEqual } from 'node:crypto';
import { systemClock, type Clock } from '../../shared/ports/clock.js';

/**
 * CamPay signs each callback with a JWT (HS256, the app's webhook key) in the `signature`
 * parameter. Its claims are not documented, so a valid signature only proves the callback came
 * from CamPay: the caller must still re-read the transaction from the status endpoint and trust
 * only that (shared/INTEGRATIONS.md).
 *
 * Written on node:crypto rather than a JWT library: we need exactly one algorithm, and ~40 lines
 * we can read in full are easier to trust than a dependency's algorithm negotiation, which is
 * where `alg: none` and HS/RS confusion bugs have come from.
 */

export type CampayWebhookClaims = Record<string, unknown> & { exp?: number; nbf?: number; iat?: number };

export interface VerifyCampayWebhookOptions {
  clock?: Clock;
  /** Tolerated clock difference with CamPay for `exp` and `nbf`, in seconds (default 30). */
  leewaySeconds?: number;
}

const BASE64URL = /^[A-Za-z0-9_-]+$/;
const DEFAULT_LEEWAY_SECONDS = 30;

function decodeJsonObject(segment: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The token's claims when `signature` is a well-formed HS256 JWT signed with `webhookKey` and not
 * expired; false otherwise (other algorithms, `none`, malformed, bad signature, expired, or an
 * empty key, with which anyone could sign).
 */
export function verifyCampayWebhookSignature(
  signature: string,
  webhookKey: string,
  options: VerifyCampayWebhookOptions = {},
): CampayWebhookClaims | false {
  if (typeof signature !== 'string' || typeof webhookKey !== 'string' || webhookKey.length === 0) return false;
  const parts = signature.split('.');
  if (parts.length !== 3 || !parts.every((part) => BASE64URL.test(part))) return false;
  const [headerPart, payloadPart, signaturePart] = parts as [string, string, string];

  const header = decodeJsonObject(headerPart);
  // Only HS256: never let the token choose (alg "none", HS384, RS256 with our key as "public key").
  if (!header || header.alg !== 'HS256' || header.crit !== undefined) return false;

  // Compared as canonical base64url text, so no second spelling of the same bytes passes.
  const expected = Buffer.from(createHmac('sha256', webhookKey).update(`${headerPart}.${payloadPart}`).digest('base64url'));
  const given = Buffer.from(signaturePart);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return false;

  const claims = decodeJsonObject(payloadPart);
  if (!claims) return false;
  const nowSeconds = (options.clock ?? systemClock).now().getTime() / 1000;
  const leeway = options.leewaySeconds ?? DEFAULT_LEEWAY_SECONDS;
  if (claims.exp !== undefined && (typeof claims.exp !== 'number' || nowSeconds >= claims.exp + leeway)) return false;
  if (claims.nbf !== undefined && (typeof claims.nbf !== 'number' || nowSeconds < claims.nbf - leeway)) return false;
  return claims as CampayWebhookClaims;
}
