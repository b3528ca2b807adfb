import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MESSAGE_DELIVERY_JOB, requestMessageDelivery } from '@relais/core';
import { startTelegramSimulator, type TelegramSimulator } from '@relais/sim';
import { JOB_SCHEDULES } from '@relais/workers';
import type { Services } from '../../server/src/services.js';
import { eventually } from '../support/relais-process.js';
import { createTestDatabase } from '../support/test-database.js';
import { createTestServices } from '../support/test-services.js';
import { createChat, createTelegramTenant, messagesOf, writeOutbound } from './delivery-fixtures.js';

describe('the messages.deliver job', () => {
  let services: Services;
  let sim: TelegramSimulator;

  beforeAll(async () => {
    sim = await startTelegramSimulator();
    services = await createTestServices(await createTestDatabase(), { telegramApiRoot: sim.apiRoot });
  });
  afterAll(async () => {
    await services?.close();
    await sim?.close();
  });

  it('is scheduled every few seconds', () => {
    expect(JOB_SCHEDULES).toContainEqual({ name: MESSAGE_DELIVERY_JOB, cron: '*/5 * * * * *', scheduleId: 'messages-deliver' });
  });

  it('sends what was just written when asked, through the senders the composition root wires', async () => {
    const { db, clock, secrets } = services;
    const tenant = await createTelegramTenant({ db, clock, secrets, sim }, 'Job Hotspot');
    const chatId = 77_001;
    const conversationId = await createChat({ db, sim }, tenant, chatId);
    await writeOutbound(db, tenant, conversationId, [{ text: 'Paiement reçu' }, { text: 'Votre code : q1w2' }], clock.now());

    await requestMessageDelivery({ queue: services.jobs, clock });
    // Asking again within the same second adds no second run.
    await requestMessageDelivery({ queue: services.jobs, clock });

    const rows = await eventually(async () => {
      const current = await messagesOf(db, tenant.tenantId, conversationId);
      return current.every((row) => row.status === 'sent') ? current : undefined;
    }, 20_000, 'both messages sent');
    expect(rows.map((row) => row.attempts)).toEqual([1, 1]);
    expect(sim.sent(tenant.token, chatId).map((message) => message.text)).toEqual(['Paiement reçu', 'Votre code : q1w2']);
  });
});
