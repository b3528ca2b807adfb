// Protocol-level simulators used by tests, benchmarks and demo mode. Production code paths never
// import this package (except demo wiring and `relais sim` in server/).
export {
  startCampaySimulator,
  type CampaySimulator,
  type CampaySimulatorOptions,
  type SimTransaction,
  type SimTransactionStatus,
  type SimRequest,
} from './campay/campay-simulator.js';
export type { CampaySimulatorFaults } from './campay/campay-sim-schemas.js';
export type { CallbackDelivery } from './campay/callback-dispatcher.js';
export { signHs256Jwt } from './campay/hs256-jwt.js';
export {
  startRouterOsSimulator,
  type RouterOsSimulator,
  type ReceivedCommand,
  type SeedSessionsOptions,
} from './routeros/routeros-simulator.js';
export type { RouterOsSimulatorFaults, RouterOsSimulatorOptions } from './routeros/routeros-sim-schemas.js';
export type { SimActiveSession, SimCookie, SimHotspotServer, SimHotspotUser, SimUserProfile, LoginOptions, NewSimUser } from './routeros/hotspot-state.js';
export { encodeLength as encodeRouterOsLength, encodeSentence as encodeRouterOsSentence, SentenceReader as RouterOsSentenceReader } from './routeros/routeros-wire.js';
export {
  startTelegramSimulator,
  type TelegramSimulator,
  type SimUserInput,
  type PressButtonInput,
  type SentMessage,
  type SentPhoto,
  type CallbackAnswer,
  type WebhookDelivery,
  type WebhookInfo,
  type TelegramApiRequest,
  type TgCallbackQuery,
  type TgMessage,
  type TgUpdate,
  type TgUser,
} from './telegram/telegram-simulator.js';
export type { TelegramSimulatorOptions, TelegramSimulatorFaults, SimBot } from './telegram/telegram-sim-schemas.js';
export {
  startAfricasTalkingSimulator,
  networkCodeOf,
  type AfricasTalkingSimulator,
  type SentSms,
  type AtCallbackDelivery,
  type AtApiRequest,
  type InboundSmsInput,
  type UssdScreen,
  type UssdSession,
} from './africastalking/africastalking-simulator.js';
export type { AtSimulatorOptions, AtSimulatorFaults, AtAccount, DeliveryStatus } from './africastalking/africastalking-sim-schemas.js';
export { smsParts, type SmsParts } from './africastalking/sms-parts.js';
export { USSD_MAX_SCREEN_CHARS } from './africastalking/ussd-driver.js';
export {
  startWhatsAppCloudSimulator,
  type WhatsAppCloudSimulator,
  type SentWaMessage,
  type WaEventDelivery,
  type WaApiRequest,
  type CustomerTextInput,
  type CustomerChoiceInput,
  type VerificationResult,
  type WaEvent,
  type WaInboundMessage,
  type WaStatus,
} from './whatsapp-cloud/whatsapp-cloud-simulator.js';
export { hubSignature256 } from './whatsapp-cloud/whatsapp-cloud-events.js';
export type { WaSimulatorOptions, WaSimulatorFaults, WaPhoneNumber } from './whatsapp-cloud/whatsapp-cloud-sim-schemas.js';
