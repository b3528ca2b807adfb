import { createHmac } from 'node:crypto';

/** Webhook event bodies as the WhatsApp Cloud API sends them (shared/INTEGRATIONS.md, "WhatsApp"). */

export interface WaMetadata {
  display_phone_number: string;
  phone_number_id: string;
}

/** A customer's photo, document or voice note: the business fetches it by id (GET /<media-id>). */
export interface WaInboundMedia {
  id: string;
  mime_type: string;
  sha256: string;
  caption?: string;
  filename?: string;
  voice?: boolean;
}

export interface WaInboundMessage {
  from: string;
  id: string;
  timestamp: string;
  type: 'text' | 'interactive' | 'image' | 'document' | 'audio';
  context?: { from: string; id: string };
  text?: { body: string };
  image?: WaInboundMedia;
  document?: WaInboundMedia;
  audio?: WaInboundMedia;
  interactive?: { type: 'button_reply'; button_reply: { id: string; title: string } } | { type: 'list_reply'; list_reply: { id: string; title: string; description?: string } };
}

export interface WaStatusError {
  code: number;
  title: string;
  message: string;
  error_data: { details: string };
  href: string;
}

export interface WaStatus {
  id: string;
  status: 'sent' | 'delivered' | 'read' | 'failed';
  timestamp: string;
  recipient_id: string;
  conversation?: { id: string; expiration_timestamp?: string; origin: { type: 'service' | 'utility' | 'marketing' | 'authentication' } };
  pricing?: { billable: boolean; pricing_model: 'CBP' | 'PMP'; category: string };
  errors?: WaStatusError[];
}

export interface WaEventValue {
  messaging_product: 'whatsapp';
  metadata: WaMetadata;
  contacts?: Array<{ profile: { name: string }; wa_id: string }>;
  messages?: WaInboundMessage[];
  statuses?: WaStatus[];
}

export interface WaEvent {
  object: 'whatsapp_business_account';
  entry: Array<{ id: string; changes: Array<{ value: WaEventValue; field: 'messages' }> }>;
}

export function eventOf(wabaId: string, value: WaEventValue): WaEvent {
  return { object: 'whatsapp_business_account', entry: [{ id: wabaId, changes: [{ value, field: 'messages' }] }] };
}

/**
 * JSON as Meta writes it: non-ASCII as \uXXXX and "/" as "\/". A receiver that verifies a
 * re-serialised body instead of the raw bytes fails on such bodies, as it would in production.
 */
export function serializeEvent(event: WaEvent, escapeUnicode: boolean): string {
  const json = JSON.stringify(event);
  if (!escapeUnicode) return json;
  return json.replace(/[\u007f-\uffff]/g, (character) => `\\u${character.charCodeAt(0).toString(16).padStart(4, '0')}`).replace(/\//g, '\\/');
}

/** X-Hub-Signature-256 value for a raw body. */
export function hubSignature256(rawBody: string | Buffer, appSecret: string): string {
  return `sha256=${createHmac('sha256', appSecret).update(rawBody).digest('hex')}`;
}

export const REENGAGEMENT_ERROR = {
  code: 131047,
  title: 'Re-engagement message',
  message: 'Re-engagement message',
  error_data: { details: 'Message failed to send because more than 24 hours have passed since the customer last replied to this number.' },
  href: 'https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/',
} satisfies WaStatusError;
