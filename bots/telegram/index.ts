// Telegram adapter: the sender (outbound delivery) and the inbound update handling.
export { createTelegramSender, type TelegramSenderOptions } from './telegram-sender.js';
export { createTelegramSenders } from './telegram-senders.js';
export { openTelegramSecrets, sealTelegramSecrets, telegramSecretsSchema, type TelegramSecrets } from './telegram-secrets.js';
export { TELEGRAM_CAPABILITIES, TELEGRAM_LIMITS, TELEGRAM_MAX_CAPTION_LENGTH } from './telegram-capabilities.js';
export { answerTelegramCallback, handleTelegramUpdate, receiveTelegramUpdate, telegramUpdateSchema, type TelegramInboundResult, type TelegramUpdate } from './telegram-inbound.js';
export { pollTelegramUpdates, type TelegramPollingOptions } from './telegram-polling.js';
