// @ts-check
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

/**
 * Dependency direction (DESIGN.md): server, bots, workers, admin-web -> core -> db.
 * core never imports a transport or a channel SDK; db never imports core; nothing in
 * production imports the simulators.
 */
const TRANSPORTS = [
  'fastify',
  'fastify-*',
  '@fastify/*',
  'bullmq',
  'ioredis',
  'telegraf',
  'telegraf/*',
  '@whiskeysockets/baileys',
  'africastalking',
  '@remix-run/*',
  'react',
  'react-dom',
  'react-dom/*',
];
const OUTER_PACKAGES = ['@relais/server', '@relais/bots', '@relais/bots/*', '@relais/workers', '@relais/admin-web', '@relais/sim', '@relais/tests', '@relais/bench'];
// bots/ keeps one folder per channel (bots/telegram, bots/webchat...), the others a src/ folder.
const outerFolders = (folders) => folders.map((folder) => (folder === 'bots' ? '**/bots/**' : `**/${folder}/src/**`));

const restrict = (message, group) => ({
  'no-restricted-imports': ['error', { patterns: [{ group, message }] }],
});

export const dependencyRules = [
  {
    files: ['core/src/**/*.ts'],
    rules: restrict('core holds the domain: it must not import transports, channel SDKs or outer packages (DESIGN.md, "Dependencies point inward").', [
      ...TRANSPORTS,
      ...OUTER_PACKAGES,
      ...outerFolders(['server', 'bots', 'workers', 'admin-web', 'sim']),
    ]),
  },
  {
    files: ['db/src/**/*.ts'],
    rules: restrict('db is the innermost package: it must not import core or anything outside it.', [
      ...TRANSPORTS,
      '@relais/core',
      ...OUTER_PACKAGES,
      ...outerFolders(['core', 'server', 'bots', 'workers', 'admin-web', 'sim']),
    ]),
  },
  {
    files: ['bots/**/*.ts', 'workers/src/**/*.ts'],
    rules: restrict('bots and workers talk to core only; the simulators and the server are off limits.', [
      '@relais/server',
      '@relais/sim',
      '@relais/admin-web',
      ...outerFolders(['server', 'sim', 'admin-web']),
    ]),
  },
];

export default tseslint.config(
  { ignores: ['**/node_modules/**', '**/build/**', 'data/**', 'bench/results/**', 'admin-web/.cache/**', '**/migrations/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node }, ecmaVersion: 2023, sourceType: 'module' },
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-empty': ['error', { allowEmptyCatch: false }],
    },
  },
  { files: ['admin-web/**/*.{ts,tsx}'], languageOptions: { globals: { ...globals.browser, ...globals.node } } },
  ...dependencyRules,
);
