// WhatsApp through Baileys (a linked device per number): auth state in the database, one
// connection per number under a lease, inbound messages to the engine, paced sends.
export * from './whatsapp-capabilities.js';
export * from './whatsapp-socket.js';
export * from './whatsapp-auth-store.js';
export * from './whatsapp-inbound.js';
export * from './whatsapp-connection.js';
export * from './whatsapp-connections.js';
export * from './whatsapp-sender.js';
export * from './whatsapp-senders.js';
