import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const eslint = new ESLint({ cwd: new URL('..', import.meta.url).pathname, errorOnUnmatchedPattern: false });

async function restrictedImports(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  return result!.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

describe('dependency direction', () => {
  it.each([
    ['core/src/tickets/x.ts', "import Fastify from 'fastify';"],
    ['core/src/tickets/x.ts', "import { Queue } from 'bullmq';"],
    ['core/src/tickets/x.ts', "import { Telegraf } from 'telegraf';"],
    ['core/src/tickets/x.ts', "import makeWASocket from '@whiskeysockets/baileys';"],
    ['core/src/tickets/x.ts', "import { json } from '@remix-run/node';"],
    ['core/src/tickets/x.ts', "import { build } from '../../../server/src/app.js';"],
    ['core/src/tickets/x.ts', "import { startCampaySimulator } from '@relais/sim';"],
    ['db/src/x.ts', "import { AppError } from '@relais/core';"],
    ['db/src/x.ts', "import { createTenant } from '../../core/src/tenants/create-tenant.js';"],
    ['workers/src/x.ts', "import { build } from '@relais/server';"],
    ['core/src/x.ts', "import { webchatCapabilities } from '@relais/bots/webchat';"],
    ['core/src/x.ts', "import { x } from '../../bots/telegram/telegram-sender.js';"],
    ['bots/telegram/x.ts', "import { startTelegramSimulator } from '@relais/sim';"],
    ['bots/webchat/x.ts', "import { build } from '../../server/src/app.js';"],
  ])('refuses %s: %s', async (filePath, code) => {
    expect(await restrictedImports(filePath, `${code}\nexport {};\n`)).toHaveLength(1);
  });

  it.each([
    ['core/src/tickets/x.ts', "import { tickets } from '@relais/db';"],
    ['server/src/x.ts', "import Fastify from 'fastify';"],
    ['workers/src/x.ts', "import { Queue } from 'bullmq';"],
  ])('allows %s: %s', async (filePath, code) => {
    expect(await restrictedImports(filePath, `${code}\nexport {};\n`)).toEqual([]);
  });

  it('holds for the whole code base as it is', async () => {
    const results = await eslint.lintFiles(['db/src', 'core/src', 'workers/src', 'bots', 'server/src']);
    const violations = results.flatMap((r) =>
      r.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => `${r.filePath}:${m.line} ${m.message}`),
    );
    expect(violations).toEqual([]);
    expect(results.length).toBeGreaterThan(10);
  });
});
