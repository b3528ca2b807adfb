import { z } from 'zod';
import type { Database } from '@relais/db';
import { parseInput } from '../shared/parse-input.js';
import type { Clock } from '../shared/ports/clock.js';

/**
 * Who holds a channel account's live connection (a WhatsApp number's socket). WhatsApp allows one
 * socket per linked device: two processes connecting with the same session kick each other off
 * (440) in a loop. So a process connects only while it holds the lease, renews it well before
 * it lapses, and a lapsed lease (its process died) is free for another to take.
 */

/** How long a lease lasts without renewal: a crashed owner's number is silent this long at most. */
export const CHANNEL_LEASE_MS = 30_000;
/** Renew this often: two renewals may fail (a slow database) before the lease lapses. */
export const CHANNEL_LEASE_RENEW_EVERY_MS = 10_000;

const leaseInput = z.object({
  tenantId: z.uuid(),
  channelAccountId: z.uuid(),
  /** This process's identity (host, pid, random): a lease taken by another owner is never ours. */
  owner: z.string().min(1).max(200),
  leaseMs: z.number().int().min(1).max(10 * 60_000).default(CHANNEL_LEASE_MS),
});

export interface ChannelLease {
  acquired: boolean;
  /** When our lease ends (acquired), or when the other owner's does (not acquired). */
  leaseUntil: Date;
  /** The holder after this call. */
  owner: string;
}

// Taken when free, lapsed or already ours — in one statement, so two processes racing for a free
// lease cannot both win: the loser's insert meets the winner's row and the WHERE refuses it.
const TAKE_LEASE = {
  name: 'channel_lease_take',
  text: `insert into channel_leases (channel_account_id, tenant_id, owner, lease_until, updated_at)
         values ($1, $2, $3, $4, $5)
         on conflict (channel_account_id) do update
            set owner = excluded.owner, lease_until = excluded.lease_until, updated_at = excluded.updated_at
          where channel_leases.owner = excluded.owner or channel_leases.lease_until <= excluded.updated_at
         returning owner`,
};
const READ_LEASE = { name: 'channel_lease_read', text: 'select owner, lease_until from channel_leases where channel_account_id = $1' };
const RELEASE_LEASE = { name: 'channel_lease_release', text: 'delete from channel_leases where channel_account_id = $1 and owner = $2 returning owner' };

/** Takes the lease when it is free, lapsed or already ours; says who holds it otherwise. */
export async function acquireChannelLease(deps: { db: Database; clock: Clock }, options: z.input<typeof leaseInput>): Promise<ChannelLease> {
  const input = parseInput(leaseInput, options);
  const now = deps.clock.now();
  const leaseUntil = new Date(now.getTime() + input.leaseMs);
  return deps.db.withPlatform(async (_tx, platform) => {
    const taken = await platform.query<{ owner: string }>(TAKE_LEASE, [input.channelAccountId, input.tenantId, input.owner, leaseUntil, now]);
    if (taken.length > 0) return { acquired: true, leaseUntil, owner: input.owner };
    const [held] = await platform.query<{ owner: string; lease_until: Date | string }>(READ_LEASE, [input.channelAccountId]);
    return { acquired: false, leaseUntil: new Date(held?.lease_until ?? now), owner: held?.owner ?? '' };
  });
}

/**
 * Extends our lease. The same statement as taking it: it fails (acquired false) exactly when
 * another owner took the lease after ours lapsed — then our connection must stop at once.
 */
export async function renewChannelLease(deps: { db: Database; clock: Clock }, options: z.input<typeof leaseInput>): Promise<ChannelLease> {
  return acquireChannelLease(deps, options);
}

/** Gives the lease up (on shutdown), so another process takes the number without waiting for it to lapse. */
export async function releaseChannelLease(deps: { db: Database }, options: Pick<z.input<typeof leaseInput>, 'channelAccountId' | 'owner'>): Promise<boolean> {
  const input = parseInput(leaseInput.pick({ channelAccountId: true, owner: true }), options);
  const released = await deps.db.withPlatform((_tx, platform) => platform.query(RELEASE_LEASE, [input.channelAccountId, input.owner]));
  return released.length > 0;
}
