export * from './webchat-capabilities.js';
export * from './webchat-adapter.js';
export * from './webchat-page.js';
