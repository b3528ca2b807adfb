// SMS over Africa's Talking: inbound and delivery-report callbacks, and the sender (fetch, per-account base URL).
export * from './africastalking-account.js';
export * from './sms-capabilities.js';
export * from './sms-sender.js';
export * from './sms-senders.js';
export * from './sms-inbound.js';
