import { Telegraf } from 'telegraf';
import { describe, expect, it } from 'vitest';
import { cleanEnv, eventually, runRelais, startRelais } from '../../tests/support/relais-process.js';

// `relais sim telegram` as a real process, reached with telegraf; a user message through /_sim/.

const TOKEN = '7100000001:AAcliSimulatedToken-abcdefghij';

describe('relais sim telegram', () => {
  it('serves the Bot API for the given token and takes simulated users over HTTP until SIGTERM', async () => {
    const sim = startRelais(['sim', 'telegram', '--port', '0', '--bot', TOKEN, '--no-rate-limits'], cleanEnv({ NODE_ENV: 'production' }));
    try {
      const apiRoot = await eventually(async () => sim.output.stdout.match(/listening on (http:\/\/127\.0\.0\.1:\d+)/)?.[1], 30_000, `simulator URL (stderr: ${sim.output.stderr})`);
      expect(sim.output.stdout).toContain(`bot token: ${TOKEN}`);
      const bot = new Telegraf(TOKEN, { telegram: { apiRoot, webhookReply: false } });
      expect((await bot.telegram.getMe()).id).toBe(7100000001);

      const written = await fetch(`${apiRoot}/_sim/messages`, { method: 'POST', body: JSON.stringify({ token: TOKEN, chatId: 42, text: 'bonjour' }) });
      expect(written.status).toBe(200);
      const [update] = await bot.telegram.callApi('getUpdates', { timeout: 0 });
      expect(update).toMatchObject({ message: { text: 'bonjour', chat: { id: 42 } } });
      await bot.telegram.sendMessage(42, 'Bienvenue');
      const sent = (await (await fetch(`${apiRoot}/_sim/sent?token=${encodeURIComponent(TOKEN)}`)).json()) as Array<{ text: string }>;
      expect(sent.map((message) => message.text)).toEqual(['Bienvenue']);
    } finally {
      expect(await sim.stop('SIGTERM')).toBe(0);
    }
  });

  it('explains bad flags', async () => {
    const run = await runRelais(['sim', 'telegram', '--port', '0', '--bot', 'not-a-token'], cleanEnv());
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--bot must look like 123456:ABC-DEF...');
  });
});
