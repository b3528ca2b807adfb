import { parseArgs } from 'node:util';
import { pollTelegramUpdates } from '@relais/bots/telegram';
import { findTenantBySlug, requestMessageDelivery } from '@relais/core';
import { channelAccounts } from '@relais/db';
import { and, eq } from 'drizzle-orm';
import { onShutdownSignals } from '@relais/workers';
import type { Config } from '../../config.js';
import { createLogger } from '../../logger.js';
import { createServices } from '../../services.js';
import { UsageError, type CliOutput } from '../output.js';

export const telegramPollUsage = 'relais telegram:poll --tenant SLUG --channel NAME';

/**
 * Runs a tenant's Telegram bot by long polling, for local use without a public URL: removes its
 * webhook, takes updates, and processes jobs in this process (replies go out through the
 * delivery queue). Stops on Ctrl-C. With the embedded database, stop `relais serve` first.
 */
export async function telegramPollCommand(args: string[], config: Config, output: CliOutput): Promise<void> {
  const { values } = parseArgs({ args, strict: true, options: { tenant: { type: 'string' }, channel: { type: 'string' } } });
  if (!values.tenant || !values.channel) throw new UsageError('--tenant and --channel are required');
  const logger = createLogger({ level: config.logLevel, name: 'relais-telegram' });
  const services = await createServices(config, logger, { processJobs: true });
  const stop = new AbortController();
  try {
    const tenant = await findTenantBySlug(services, values.tenant);
    const [account] = await services.db.withTenant(tenant.id, (tx) =>
      tx
        .select({ id: channelAccounts.id })
        .from(channelAccounts)
        .where(and(eq(channelAccounts.tenantId, tenant.id), eq(channelAccounts.kind, 'telegram'), eq(channelAccounts.name, values.channel!))),
    );
    if (!account) throw new UsageError(`no Telegram channel named "${values.channel}" for ${tenant.slug}`);
    // Ctrl-C: stop taking updates, let running jobs finish, close the database, exit.
    onShutdownSignals(async () => {
      stop.abort();
      await services.close();
    }, logger);
    output.err(`Polling Telegram for ${tenant.slug} / ${values.channel} (Ctrl-C to stop)...`);
    await pollTelegramUpdates(services, {
      tenantId: tenant.id,
      channelAccountId: account.id,
      signal: stop.signal,
      onUpdate: async (handled) => {
        if (handled) await requestMessageDelivery({ queue: services.jobs, clock: services.clock });
      },
      // Only the error's name: a network error's message may quote the request URL (bot token).
      onError: (error) => logger.warn({ error: (error as Error)?.name }, 'Telegram polling error; retrying'),
    });
  } finally {
    stop.abort();
    await services.close();
  }
}
