import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { and, eq } from 'drizzle-orm';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  createGatewayDirectory,
  createLocalDiskFileStore,
  createRouterOsClient,
  createSecretBox,
  createSmtpMailer,
  createTenant,
  dispatchOutbox,
  NOTIFICATION_EMAIL_TOPIC,
  notifyUsers,
  parseSmtpUrl,
  sendNotificationEmail,
  setNotificationPreference,
  systemClock,
  type Clock,
  type Mailer,
  type OutboxDelivery,
} from '@relais/core';
import { notifications, outbox, users, type Database } from '@relais/db';
import { buildOutboxConsumers } from '@relais/workers';
import { errorOf } from '../../tests/support/app-error-of.js';
import { closedPort, startSmtpServer, type TestSmtpServer } from '../../tests/support/smtp-server.js';
import { steppedClock } from '../../tests/support/stepped-clock.js';
import { createTestDatabase, testDrivers, type TestDatabase } from '../../tests/support/test-database.js';

const FROM = 'Relais <notifications@relais.test>';
const T0 = new Date('2026-05-12T09:00:00Z');
const fixedClock: Clock = { now: () => T0 };
/** Random per run: nothing in the repository looks like a credential. */
const secretLike = () => randomBytes(12).toString('hex');

const message = { to: 'awa@example.cm', subject: 'Ticket assigné à vous', text: 'Bonjour Awa,\n\nLe ticket n° 42 vous est assigné : « Pas de connexion ».', html: '<p>Bonjour Awa</p>' };

describe('SMTP mailer (nodemailer) against a local SMTP server', () => {
  const servers: TestSmtpServer[] = [];
  const start = async (options: Parameters<typeof startSmtpServer>[0] = {}) => {
    const server = await startSmtpServer(options);
    servers.push(server);
    return server;
  };
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((server) => server.close()));
  });

  it('delivers with the URL’s login: recipient, sender, accented subject, text and HTML', async () => {
    const auth = { user: `relais-${secretLike()}`, pass: secretLike() };
    const server = await start({ auth });
    await createSmtpMailer({ url: server.url, from: FROM }).send(message);
    expect(server.messages).toHaveLength(1);
    const [received] = server.messages;
    expect(received).toMatchObject({ envelopeFrom: 'notifications@relais.test', envelopeTo: ['awa@example.cm'], authenticatedUser: auth.user, subject: message.subject, html: message.html });
    expect(received!.text.trim()).toBe(message.text);
    expect(received!.headers.get('from')).toBe(FROM);
  });

  it('reports an unreachable server as retryable, without the URL’s credentials', async () => {
    const user = `relais-${secretLike()}`;
    const pass = secretLike();
    const error = await errorOf(createSmtpMailer({ url: `smtp://${user}:${pass}@127.0.0.1:${await closedPort()}`, from: FROM }).send(message));
    expect(error.code).toBe('DEPENDENCY_UNAVAILABLE');
    expect(error.retryable).toBe(true);
    expect(JSON.stringify({ message: error.message, details: error.details, cause: String(error.cause) })).not.toMatch(new RegExp(`${user}|${pass}`));
  });

  it('reports refused credentials and a permanently refused recipient as not retryable; a temporary refusal as retryable', async () => {
    const auth = { user: `relais-${secretLike()}`, pass: secretLike() };
    const server = await start({ auth, refuseRecipient: (address) => (address.startsWith('gone@') ? 550 : address.startsWith('busy@') ? 451 : undefined) });
    const wrongPass = secretLike();
    const badLogin = await errorOf(createSmtpMailer({ url: `smtp://${auth.user}:${wrongPass}@127.0.0.1:${server.port}`, from: FROM }).send(message));
    expect(badLogin).toMatchObject({ code: 'GATEWAY_AUTH_FAILED', retryable: false, details: { responseCode: 535 } });
    expect(`${badLogin.message} ${JSON.stringify(badLogin.details)}`).not.toContain(wrongPass);

    const mailer = createSmtpMailer({ url: server.url, from: FROM });
    expect(await errorOf(mailer.send({ ...message, to: 'gone@example.cm' }))).toMatchObject({ code: 'GATEWAY_REJECTED', retryable: false, details: { responseCode: 550 } });
    expect(await errorOf(mailer.send({ ...message, to: 'busy@example.cm' }))).toMatchObject({ code: 'DEPENDENCY_UNAVAILABLE', retryable: true, details: { responseCode: 451 } });
    expect(server.messages).toEqual([]);
  });

  it('reads TLS and the default port from the scheme, and percent-encoded credentials', () => {
    const pass = `p@ss:/${secretLike()}`;
    expect(parseSmtpUrl(`smtps://relais%40example.cm:${encodeURIComponent(pass)}@mail.example.cm`)).toEqual({
      host: 'mail.example.cm',
      port: 465,
      secure: true,
      auth: { user: 'relais@example.cm', pass },
    });
    expect(parseSmtpUrl('smtp://mail.example.cm')).toEqual({ host: 'mail.example.cm', port: 587, secure: false });
    expect(parseSmtpUrl('smtp://[::1]:2525')).toEqual({ host: '::1', port: 2525, secure: false });
  });

  it('refuses a URL that is not smtp:// or smtps:// without echoing it', async () => {
    const pass = secretLike();
    for (const url of [`http://user:${pass}@mail.example.cm`, `smtp//user:${pass}@mail`]) {
      expect(() => createSmtpMailer({ url, from: FROM })).toThrow(/SMTP URL/);
      try {
        createSmtpMailer({ url, from: FROM });
      } catch (error) {
        expect(String((error as Error).message)).not.toContain(pass);
      }
    }
  });
});

describe.each(testDrivers())('notification emails on %s', (driver) => {
  let test: TestDatabase;
  let db: Database;
  let smtp: TestSmtpServer;
  let counter = 0;

  beforeAll(async () => {
    test = await createTestDatabase(driver);
    db = test.db;
    smtp = await startSmtpServer();
  });
  afterAll(async () => {
    await smtp?.close();
    await test?.drop();
  });

  async function newTenant() {
    counter += 1;
    const { tenant } = await createTenant({ db, clock: fixedClock }, { name: `Mail ${counter}`, email: `mail-${driver}-${counter}@example.cm`, mode: 'commission' });
    return tenant.id;
  }

  async function addAgent(tenantId: string, options: { locale: 'fr' | 'en'; name: string; disabled?: boolean }): Promise<{ id: string; email: string }> {
    counter += 1;
    const email = `agent-${driver}-${counter}@example.cm`;
    const [agent] = await db.withTenant(tenantId, (tx) =>
      tx
        .insert(users)
        .values({ tenantId, email, name: options.name, role: 'agent', passwordHash: 'x', locale: options.locale, disabledAt: options.disabled ? T0 : null })
        .returning({ id: users.id }),
    );
    return { id: agent!.id, email };
  }

  const assignment = {
    title: { fr: 'Ticket assigné : « Pas de connexion »', en: 'Ticket assigned: "No connection"' },
    body: { fr: 'Le ticket vous est assigné.\nRépondez avant 10 h.', en: 'The ticket is assigned to you.\nAnswer before 10 am.' },
    ticketNumber: 42,
  };

  const notify = (tenantId: string, userIds: string[], content: Parameters<typeof notifyUsers>[1]['content'] = assignment) =>
    db.withTenant(tenantId, (tx) => notifyUsers(tx, { tenantId, userIds, kind: 'ticket.assigned', content, at: T0 }));

  const emailedAt = async (tenantId: string, notificationId: string) =>
    (await db.withTenant(tenantId, (tx) => tx.select({ emailedAt: notifications.emailedAt }).from(notifications).where(eq(notifications.id, notificationId))))[0]?.emailedAt;

  const mailTo = (address: string) => smtp.messages.filter((received) => received.envelopeTo.includes(address));

  /** What the worker process wires: the real outbox consumers, with `mailer` as configured. */
  const consumersWith = (mailer: Mailer | undefined) => {
    const secrets = createSecretBox(randomBytes(32));
    return buildOutboxConsumers({
      db,
      clock: fixedClock,
      gateways: createGatewayDirectory({ db, secrets }),
      fileStore: createLocalDiskFileStore(join(tmpdir(), `relais-unused-${secretLike()}`)),
      logger: pino({ level: 'silent' }),
      secrets,
      routerClient: createRouterOsClient(),
      senderFor: () => undefined,
      mailer,
    });
  };

  it('sends in each user’s language (fr and en), once, and records when', async () => {
    const tenantId = await newTenant();
    const awa = await addAgent(tenantId, { locale: 'fr', name: 'Awa <Admin>' });
    const john = await addAgent(tenantId, { locale: 'en', name: 'John' });
    const ids = await notify(tenantId, [awa.id, john.id]);
    const mailer = createSmtpMailer({ url: smtp.url, from: FROM });
    const sentAt = new Date('2026-05-12T09:01:00Z');
    for (const notificationId of ids) {
      expect(await sendNotificationEmail({ db, clock: { now: () => sentAt }, mailer }, { tenantId, notificationId })).toMatchObject({ status: 'sent' });
      expect(await emailedAt(tenantId, notificationId)).toEqual(sentAt);
    }

    const [french] = mailTo(awa.email);
    expect(french!.subject).toBe('[#42] Ticket assigné : « Pas de connexion »');
    expect(french!.text).toContain('Bonjour Awa <Admin>,');
    expect(french!.text).toContain('Le ticket vous est assigné.\nRépondez avant 10 h.');
    expect(french!.text).toContain('Ticket n° 42');
    expect(french!.text).not.toContain('assigned');
    // The HTML copy escapes what people wrote.
    expect(french!.html).toContain('Bonjour Awa &#60;Admin&#62;,');
    expect(french!.html).toContain('Le ticket vous est assigné.<br>Répondez avant 10 h.');
    expect(french!.html).not.toContain('<Admin>');

    const [english] = mailTo(john.email);
    expect(english!.subject).toBe('[#42] Ticket assigned: "No connection"');
    expect(english!.text).toContain('Hello John,');
    expect(english!.text).toContain('The ticket is assigned to you.\nAnswer before 10 am.');
    expect(english!.text).toContain('Ticket #42');
    expect(english!.html).toContain('&#34;No connection&#34;');

    // Again (a redelivery): nothing more is sent and the first time is kept.
    expect(await sendNotificationEmail({ db, clock: fixedClock, mailer }, { tenantId, notificationId: ids[0]! })).toEqual({ status: 'already_sent' });
    expect(mailTo(awa.email)).toHaveLength(1);
    expect(await emailedAt(tenantId, ids[0]!)).toEqual(sentAt);
  });

  it('skips disabled users, unknown notifications and another tenant’s notification', async () => {
    const tenantId = await newTenant();
    const other = await newTenant();
    const agent = await addAgent(tenantId, { locale: 'fr', name: 'Paul' });
    const [notificationId] = await notify(tenantId, [agent.id]);
    await db.withTenant(tenantId, (tx) => tx.update(users).set({ disabledAt: T0 }).where(and(eq(users.tenantId, tenantId), eq(users.id, agent.id))));
    const mailer = createSmtpMailer({ url: smtp.url, from: FROM });
    expect(await sendNotificationEmail({ db, clock: fixedClock, mailer }, { tenantId, notificationId: notificationId! })).toEqual({ status: 'skipped', reason: 'user_disabled' });
    expect(await sendNotificationEmail({ db, clock: fixedClock, mailer }, { tenantId: other, notificationId: notificationId! })).toEqual({ status: 'skipped', reason: 'not_found' });
    expect(mailTo(agent.email)).toEqual([]);
    expect(await emailedAt(tenantId, notificationId!)).toBeNull();
  });

  it('goes through the outbox: one email per user even when the consumer runs twice', async () => {
    const tenantId = await newTenant();
    const awa = await addAgent(tenantId, { locale: 'fr', name: 'Awa' });
    const john = await addAgent(tenantId, { locale: 'en', name: 'John' });
    const quiet = await addAgent(tenantId, { locale: 'en', name: 'Quiet' });
    await setNotificationPreference({ db }, { tenantId, userId: quiet.id, kind: 'ticket.assigned', inApp: true, email: false });
    const ids = await notify(tenantId, [awa.id, john.id, quiet.id]);
    expect(ids).toHaveLength(3);

    const consumers = consumersWith(createSmtpMailer({ url: smtp.url, from: FROM }));
    const deliveries: OutboxDelivery[] = [];
    const recording = { [NOTIFICATION_EMAIL_TOPIC]: async (delivery: OutboxDelivery) => (deliveries.push(delivery), consumers[NOTIFICATION_EMAIL_TOPIC]!(delivery)) };
    expect(await dispatchOutbox({ db, clock: systemClock, consumers: recording }, { tenantId })).toEqual({ delivered: 2, retried: 0, dead: 0 });
    expect(mailTo(awa.email).map((m) => m.subject)).toEqual(['[#42] Ticket assigné : « Pas de connexion »']);
    expect(mailTo(john.email).map((m) => m.subject)).toEqual(['[#42] Ticket assigned: "No connection"']);
    expect(mailTo(quiet.email)).toEqual([]);

    // At-least-once: the same deliveries again (a lease that ran out) send nothing more.
    for (const delivery of deliveries) await consumers[NOTIFICATION_EMAIL_TOPIC]!(delivery);
    expect(await dispatchOutbox({ db, clock: systemClock, consumers: recording }, { tenantId })).toEqual({ delivered: 0, retried: 0, dead: 0 });
    expect(mailTo(awa.email)).toHaveLength(1);
    expect(mailTo(john.email)).toHaveLength(1);
  });

  it('SMTP down: the delivery is retried later and nothing is marked emailed; it goes once the server is back', async () => {
    const tenantId = await newTenant();
    const agent = await addAgent(tenantId, { locale: 'en', name: 'Ngozi' });
    const [notificationId] = await notify(tenantId, [agent.id]);
    const clock = steppedClock();
    const down = createSmtpMailer({ url: `smtp://127.0.0.1:${await closedPort()}`, from: FROM });

    const error = await errorOf(sendNotificationEmail({ db, clock, mailer: down }, { tenantId, notificationId: notificationId! }));
    expect(error).toMatchObject({ code: 'DEPENDENCY_UNAVAILABLE', retryable: true });
    expect(await dispatchOutbox({ db, clock, consumers: consumersWith(down) }, { tenantId })).toEqual({ delivered: 0, retried: 1, dead: 0 });
    const [pending] = await db.withTenant(tenantId, (tx) => tx.select().from(outbox).where(and(eq(outbox.tenantId, tenantId), eq(outbox.topic, NOTIFICATION_EMAIL_TOPIC))));
    expect(pending).toMatchObject({ status: 'pending', attempts: 1 });
    expect(pending!.lastError).toMatch(/^AppError: SMTP server 127\.0\.0\.1:\d+ is unavailable/);
    expect(await emailedAt(tenantId, notificationId!)).toBeNull();
    expect(mailTo(agent.email)).toEqual([]);

    clock.advance(60 * 60_000);
    expect(await dispatchOutbox({ db, clock, consumers: consumersWith(createSmtpMailer({ url: smtp.url, from: FROM })) }, { tenantId })).toEqual({ delivered: 1, retried: 0, dead: 0 });
    expect(mailTo(agent.email)).toHaveLength(1);
    expect(await emailedAt(tenantId, notificationId!)).not.toBeNull();
  });

  it('a permanent refusal settles the delivery without marking it emailed', async () => {
    const refusing = await startSmtpServer({ refuseRecipient: () => 550 });
    try {
      const tenantId = await newTenant();
      const agent = await addAgent(tenantId, { locale: 'fr', name: 'Léa' });
      const [notificationId] = await notify(tenantId, [agent.id]);
      const mailer = createSmtpMailer({ url: refusing.url, from: FROM });
      expect(await sendNotificationEmail({ db, clock: fixedClock, mailer }, { tenantId, notificationId: notificationId! })).toEqual({ status: 'rejected', code: 'GATEWAY_REJECTED' });
      expect(await dispatchOutbox({ db, clock: systemClock, consumers: consumersWith(mailer) }, { tenantId })).toEqual({ delivered: 1, retried: 0, dead: 0 });
      expect(await emailedAt(tenantId, notificationId!)).toBeNull();
      expect(refusing.messages).toEqual([]);
    } finally {
      await refusing.close();
    }
  });

  it('without an SMTP server configured, the email is skipped and the delivery settled', async () => {
    const tenantId = await newTenant();
    const agent = await addAgent(tenantId, { locale: 'fr', name: 'Marc' });
    const [notificationId] = await notify(tenantId, [agent.id]);
    expect(await dispatchOutbox({ db, clock: systemClock, consumers: consumersWith(undefined) }, { tenantId })).toEqual({ delivered: 1, retried: 0, dead: 0 });
    expect(await emailedAt(tenantId, notificationId!)).toBeNull();
    expect(mailTo(agent.email)).toEqual([]);
  });
});
