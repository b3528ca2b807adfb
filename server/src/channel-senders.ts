import type { SecretBox, SenderFor } from '@relais/core';
import { createAfricasTalkingSmsSenders } from '@relais/bots/sms';
import { createTelegramSenders } from '@relais/bots/telegram';
import { createWhatsAppSenders, type WhatsAppConnections } from '@relais/bots/whatsapp';
import { createWhatsAppCloudSenders } from '@relais/bots/whatsapp-cloud';

/**
 * The one place that maps a channel account's kind to the adapter that sends on it. Kinds with
 * no sender yet (or in-session ones: web chat) get none; their pending messages wait.
 */
export function createSenderFor(deps: { secrets: SecretBox }, options: { telegramApiRoot?: string; whatsappConnections?: WhatsAppConnections } = {}): SenderFor {
  const telegram = createTelegramSenders(deps, { apiRoot: options.telegramApiRoot });
  // The Graph API origin is per account (settings.baseUrl): one tenant may test on the simulator.
  const whatsappCloud = createWhatsAppCloudSenders(deps);
  // Africa's Talking, base URL per account too (the SDK's sandbox switch is process-wide).
  const africasTalkingSms = createAfricasTalkingSmsSenders(deps);
  // Baileys: the live socket of this process's connection (default: the process-wide one).
  const whatsapp = createWhatsAppSenders({ connections: options.whatsappConnections });
  return (account) => {
    switch (account.kind) {
      case 'telegram':
        return telegram(account);
      case 'whatsapp':
        return whatsapp(account);
      case 'whatsapp_cloud':
        return whatsappCloud(account);
      case 'sms':
        return africasTalkingSms(account);
      case 'ussd':
        // USSD replies go in the session; what a USSD conversation says after it leaves as SMS.
        return africasTalkingSms(account);
      default:
        return undefined;
    }
  };
}
