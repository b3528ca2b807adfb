// USSD over Africa's Talking: one callback per step, answered CON/END in the response.
export * from './ussd-capabilities.js';
export * from './ussd-screen.js';
export * from './ussd-session.js';
