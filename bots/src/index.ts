// Channel adapters (WhatsApp, Telegram, SMS, USSD, web chat) live here, one folder each; they only
// translate between a provider and core. None exists yet.
export {};
