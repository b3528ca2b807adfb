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
