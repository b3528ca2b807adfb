export * from './deliver-pending-messages.js';
export * from './message-pacer.js';
export * from './request-message-delivery.js';
