// WhatsApp Cloud API adapter: the signed webhook (inbound messages and statuses) and the sender.
export * from './whatsapp-cloud-capabilities.js';
export * from './whatsapp-cloud-secrets.js';
export * from './whatsapp-cloud-signature.js';
export * from './whatsapp-cloud-errors.js';
export * from './whatsapp-cloud-events.js';
export * from './whatsapp-cloud-inbound.js';
export * from './whatsapp-cloud-sender.js';
export * from './whatsapp-cloud-senders.js';
