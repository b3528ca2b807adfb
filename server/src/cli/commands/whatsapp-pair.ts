import { parseArgs } from 'node:util';
import { z } from 'zod';
import { WhatsAppConnections } from '@relais/bots/whatsapp';
import { createChannelAccount, findTenantBySlug, setChannelAccountStatus } from '@relais/core';
import type { Config } from '../../config.js';
import { withCliContext } from '../cli-context.js';
import { parseFlags, type CliOutput } from '../output.js';

export const whatsappPairUsage = 'relais whatsapp:pair --tenant SLUG --name NAME [--timeout-seconds 180]';

const flagsSchema = z.object({
  tenant: z.string('--tenant is required').min(1, '--tenant is required'),
  name: z.string('--name is required').trim().min(1, '--name is required').max(100),
  'timeout-seconds': z.coerce.number().int().min(20).max(1_800).default(180),
});

/**
 * Links a WhatsApp number to a reseller: creates the channel account (paused until linked),
 * prints each pairing QR code in the terminal, and waits until the phone has scanned it
 * (WhatsApp > Linked devices > Link a device). The session is stored sealed in the database; the
 * lease is released at the end so `relais serve` (WHATSAPP_CONNECTIONS=on) takes the number over.
 */
export async function whatsappPairCommand(args: string[], config: Config, output: CliOutput): Promise<void> {
  const { values } = parseArgs({ args, strict: true, options: { tenant: { type: 'string' }, name: { type: 'string' }, 'timeout-seconds': { type: 'string' } } });
  const flags = parseFlags(flagsSchema, values);
  await withCliContext(config, async (context) => {
    const tenant = await findTenantBySlug(context, flags.tenant);
    const account = await createChannelAccount(context, { tenantId: tenant.id, kind: 'whatsapp', name: flags.name });
    // Paused until linked: a server must not start pairing this number behind our back.
    await setChannelAccountStatus(context, { tenantId: tenant.id, channelAccountId: account.id, status: 'paused' });
    output.err(`Channel account ${account.id} created. Scan the code with WhatsApp > Linked devices > Link a device.`);

    // No delivery from this short-lived process: the server holding the number sends once paired.
    const connections = new WhatsAppConnections(undefined, { deliver: false });
    const connection = connections.open({ ...context, logger: context.logger }, { tenantId: tenant.id, channelAccountId: account.id, requireActive: false });
    try {
      const outcome = await new Promise<'open' | 'failed' | 'timeout'>((resolve) => {
        const timer = setTimeout(() => resolve('timeout'), flags['timeout-seconds'] * 1000);
        connection.onChange((state) => {
          if (state === 'pairing') {
            void connection.pairingQrTerminal().then((drawing) => drawing && output.out(drawing));
          } else if (state === 'open') {
            clearTimeout(timer);
            resolve('open');
          } else if (connection.finished) {
            clearTimeout(timer);
            resolve('failed');
          }
        });
      });
      if (outcome !== 'open') throw new Error(outcome === 'timeout' ? 'no phone linked the number in time; run the command again' : `pairing stopped (${connection.state})`);
      output.out(`Linked: WhatsApp channel ${account.id} (${flags.name}) is active.`);
    } finally {
      await connections.closeAll();
    }
  });
}
