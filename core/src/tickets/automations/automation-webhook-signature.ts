import { createHmac } from 'node:crypto';

/** Header carrying `sha256=<hex HMAC-SHA256 of the raw request body>` under the automation's key. */
export const AUTOMATION_WEBHOOK_SIGNATURE_HEADER = 'x-relais-signature';
/** Header carrying the send time in Unix seconds (also inside the signed body, for replay checks). */
export const AUTOMATION_WEBHOOK_TIMESTAMP_HEADER = 'x-relais-timestamp';

/** The X-Relais-Signature value for a body: receivers compute the same over the bytes they got. */
export function signAutomationWebhook(secret: string, rawBody: string): string {
  return `sha256=${createHmac('sha256', secret).update(rawBody, 'utf8').digest('hex')}`;
}
