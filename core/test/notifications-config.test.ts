import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSmtpMailer, createTenant, notifyUsers, systemClock } from '@relais/core';
import { ConfigError, loadConfig } from '../../server/src/config.js';
import type { Services } from '../../server/src/services.js';
import { eventually } from '../../tests/support/relais-process.js';
import { startSmtpServer, type TestSmtpServer } from '../../tests/support/smtp-server.js';
import { createTestDatabase } from '../../tests/support/test-database.js';
import { createTestServices } from '../../tests/support/test-services.js';

const configError = (env: Record<string, string>): string => {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error('expected a ConfigError');
};

describe('SMTP settings', () => {
  it('are optional: no SMTP_URL, no mail', () => {
    expect(loadConfig({}).mail).toBeUndefined();
  });

  it('read SMTP_URL with MAIL_FROM, which it requires', () => {
    const pass = randomBytes(8).toString('hex');
    const url = `smtps://relais:${pass}@mail.example.cm:465`;
    expect(loadConfig({ SMTP_URL: url, MAIL_FROM: 'Relais <notifications@example.cm>' }).mail).toEqual({ smtpUrl: url, from: 'Relais <notifications@example.cm>' });
    const missingFrom = configError({ SMTP_URL: url });
    expect(missingFrom).toMatch(/^MAIL_FROM must be set with SMTP_URL/);
    expect(missingFrom).not.toContain(pass);
  });

  it('refuse a URL of another scheme without echoing it (it may carry a password)', () => {
    const pass = randomBytes(8).toString('hex');
    const message = configError({ SMTP_URL: `https://relais:${pass}@mail.example.cm`, MAIL_FROM: 'notifications@example.cm' });
    expect(message).toMatch(/^SMTP_URL must be an smtp:\/\//);
    expect(message).not.toContain(pass);
    expect(configError({ SMTP_URL: 'smtp://mail.example.cm', MAIL_FROM: 'no address' })).toMatch(/^MAIL_FROM must be an email address/);
  });
});

describe('notification emails through the job runner', () => {
  let services: Services;
  let smtp: TestSmtpServer;

  beforeAll(async () => {
    smtp = await startSmtpServer();
    services = await createTestServices(await createTestDatabase(), { mailer: createSmtpMailer({ url: smtp.url, from: 'Relais <notifications@relais.test>' }) });
  });
  afterAll(async () => {
    await services?.close();
    await smtp?.close();
  });

  it('the outbox dispatch job hands notification.email to the configured mailer', async () => {
    const { tenant, admin } = await createTenant({ db: services.db, clock: systemClock }, { name: 'Mail Jobs', email: 'mail-jobs@example.cm', mode: 'commission' });
    await services.db.withTenant(tenant.id, (tx) =>
      notifyUsers(tx, {
        tenantId: tenant.id,
        userIds: [admin.id],
        kind: 'ticket.sla_breached',
        content: { title: { fr: 'Délai dépassé', en: 'SLA breached' }, body: { fr: 'Le ticket attend.', en: 'The ticket is waiting.' }, ticketNumber: 3 },
        at: systemClock.now(),
      }),
    );
    await services.jobs.enqueue('outbox.dispatch', {});
    const [received] = await eventually(async () => (smtp.messages.length > 0 ? smtp.messages : undefined), 20_000, 'notification email');
    expect(received!.envelopeTo).toEqual(['mail-jobs@example.cm']);
    expect(received!.subject).toBe('[#3] Délai dépassé');
    expect(received!.text).toContain('Le ticket attend.');
  });
});
