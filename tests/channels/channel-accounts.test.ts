import { randomBytes } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createChannelAccount, createSecretBox, createTenant, findChannelAccountRoute, loadChannelAccount, systemClock } from '@relais/core';
import { channelAccounts } from '@relais/db';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';

describe('channel accounts', () => {
  let test: TestDatabase;
  const secrets = createSecretBox(randomBytes(32));
  let akwa: string;
  let deido: string;

  beforeAll(async () => {
    test = await createTestDatabase();
    akwa = (await createTenant({ db: test.db, clock: systemClock }, { name: 'Akwa Channels', email: 'akwa-ch@example.cm' })).tenant.id;
    deido = (await createTenant({ db: test.db, clock: systemClock }, { name: 'Deido Channels', email: 'deido-ch@example.cm' })).tenant.id;
  });
  afterAll(async () => {
    await test.drop();
  });

  it('stores the secrets sealed, routes the account id to its tenant, and opens it for that tenant only', async () => {
    const account = await createChannelAccount({ db: test.db, secrets }, { tenantId: akwa, kind: 'telegram', name: 'Akwa bot', externalId: 'akwa_bot', secrets: { botToken: '123:ABC-secret', webhookSecret: 'wh-secret' } });
    expect(await findChannelAccountRoute({ db: test.db }, account.id)).toEqual({ tenantId: akwa, kind: 'telegram' });
    const [row] = await test.db.withTenant(akwa, (tx) => tx.select().from(channelAccounts).where(eq(channelAccounts.id, account.id)));
    expect(row!.secretsEnc).not.toContain('123:ABC-secret');
    expect((await loadChannelAccount({ db: test.db, secrets }, { tenantId: akwa, channelAccountId: account.id })).secrets).toEqual({ botToken: '123:ABC-secret', webhookSecret: 'wh-secret' });
    // Another tenant cannot open it: row-level security hides the row.
    await expect(loadChannelAccount({ db: test.db, secrets }, { tenantId: deido, channelAccountId: account.id })).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('answers NOT_FOUND for an unknown or malformed account id', async () => {
    await expect(findChannelAccountRoute({ db: test.db }, '00000000-0000-4000-8000-000000000000')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(findChannelAccountRoute({ db: test.db }, "x' or 1=1 --")).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('refuses an unknown kind', async () => {
    await expect(createChannelAccount({ db: test.db, secrets }, { tenantId: akwa, kind: 'fax' as never, name: 'x' })).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
  });
});
