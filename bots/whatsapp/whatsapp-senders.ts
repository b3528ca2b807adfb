import type { ChannelSender, SendingChannelAccount } from '@relais/core';
import { processWhatsAppConnections, type WhatsAppConnections } from './whatsapp-connections.js';
import { createWhatsAppSender } from './whatsapp-sender.js';

/**
 * Senders for WhatsApp (Baileys) channel accounts: each reads its number's live socket from this
 * process's connections at send time (the socket changes on every reconnect). The composition
 * root calls it for kind 'whatsapp'.
 */
export function createWhatsAppSenders(options: { connections?: WhatsAppConnections } = {}): (account: SendingChannelAccount) => ChannelSender {
  const connections = options.connections ?? processWhatsAppConnections;
  const cache = new Map<string, ChannelSender>();
  return (account) => {
    let sender = cache.get(account.id);
    if (!sender) {
      sender = createWhatsAppSender({ socketOf: () => connections.socketOf(account.id) });
      cache.set(account.id, sender);
    }
    return sender;
  };
}
