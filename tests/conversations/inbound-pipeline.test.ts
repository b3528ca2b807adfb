import { and, asc, eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  applyConversationEvent,
  createTenant,
  findOrCreateChannelAccount,
  generateVouchers,
  handleInboundMessage,
  notifyConversationOfTicket,
  CONVERSATION_IDLE_EXPIRY_MS,
  type ChannelCapabilities,
} from '@relais/core';
import { contactIdentities, contacts, conversationMessages, conversations, executeRows, outbox, tickets, wifiPackages, type Database } from '@relais/db';
import { steppedClock } from '../support/stepped-clock.js';
import { createTestDatabase, testDrivers, type TestDatabase } from '../support/test-database.js';
import { insertWifiPackage } from '../support/wifi-fixtures.js';

/** A push channel with numbered lists (as SMS or WhatsApp through Baileys would declare). */
const LIST_CHANNEL: ChannelCapabilities = { buttons: false, maxButtons: 0, images: true, maxTextLength: 1000, plainTextOnly: false, replyInSession: false };
const BUTTON_CHANNEL: ChannelCapabilities = { buttons: true, maxButtons: 10, images: true, maxTextLength: 4000, plainTextOnly: false, replyInSession: true };

describe.each(testDrivers())('inbound pipeline on %s', (driver) => {
  let test: TestDatabase;
  let db: Database;
  const clock = steppedClock();
  let tenantId: string;
  let pushAccount: string;
  let otherPushAccount: string;
  let webAccount: string;
  let messageCounter = 0;

  beforeAll(async () => {
    test = await createTestDatabase(driver);
    db = test.db;
    tenantId = (await createTenant({ db, clock }, { name: 'Wifi Zone Akwa', email: `akwa-${driver}@example.cm`, mode: 'commission' })).tenant.id;
    pushAccount = (await findOrCreateChannelAccount({ db }, { tenantId, kind: 'whatsapp', name: 'WhatsApp' })).id;
    otherPushAccount = (await findOrCreateChannelAccount({ db }, { tenantId, kind: 'sms', name: 'SMS' })).id;
    webAccount = (await findOrCreateChannelAccount({ db }, { tenantId, kind: 'webchat', name: 'Web chat' })).id;
    const { id: packageId } = await insertWifiPackage(db, tenantId);
    await generateVouchers({ db }, { tenantId, packageId, count: 2 });
  });
  afterAll(async () => {
    await test?.drop();
  });

  function inbound(externalId: string, text: string, options: { providerMessageId?: string; phoneE164?: string; account?: string; capabilities?: ChannelCapabilities } = {}) {
    messageCounter += 1;
    return handleInboundMessage(
      { db, clock },
      {
        tenantId,
        channelAccountId: options.account ?? pushAccount,
        sender: { externalId, phoneE164: options.phoneE164 },
        providerMessageId: options.providerMessageId ?? `msg-${messageCounter}`,
        text,
        receivedAt: clock.now(),
        capabilities: options.capabilities ?? LIST_CHANNEL,
      },
    );
  }

  const messagesOf = (conversationId: string) =>
    db.withTenant(tenantId, (tx) =>
      tx.select().from(conversationMessages).where(and(eq(conversationMessages.tenantId, tenantId), eq(conversationMessages.conversationId, conversationId))).orderBy(asc(conversationMessages.seq)),
    );
  const conversationRow = async (conversationId: string) =>
    (await db.withTenant(tenantId, (tx) => tx.select().from(conversations).where(and(eq(conversations.tenantId, tenantId), eq(conversations.id, conversationId)))))[0]!;
  const textOf = (body: unknown) => (body as { text: string }).text;

  it('creates unknown contacts and answers the first message with the language question, as a numbered list', async () => {
    const outcome = await inbound('237670000101@s.whatsapp.net', 'Bonjour', { phoneE164: '+237670000101' });
    expect(outcome.duplicate).toBe(false);
    expect(outcome.replies).toHaveLength(1);
    expect(outcome.replies[0]!.body.choices).toBeUndefined();
    expect(outcome.replies[0]!.body.text).toMatch(/Choisissez votre langue[\s\S]*\n1\. Français\n2\. English$/);
    const [row] = await messagesOf(outcome.conversationId).then((rows) => rows.filter((message) => message.direction === 'outbound'));
    expect(row!.status).toBe('pending'); // a push channel: the delivery queue sends it
  });

  it('merges contacts across channels by phone number, and pays with the chat number by default', async () => {
    const whatsapp = await inbound('237670000102@s.whatsapp.net', 'bonjour', { phoneE164: '+237670000102' });
    const sms = await inbound('+237670000102', 'bonjour', { phoneE164: '+237670000102', account: otherPushAccount });
    expect(sms.contactId).toBe(whatsapp.contactId);
    expect(sms.conversationId).not.toBe(whatsapp.conversationId);
    const identities = await db.withTenant(tenantId, (tx) => tx.select().from(contactIdentities).where(eq(contactIdentities.contactId, whatsapp.contactId)));
    expect(identities.map((identity) => identity.channelKind).sort()).toEqual(['sms', 'whatsapp']);

    await inbound('+237670000102', '1', { phoneE164: '+237670000102', account: otherPushAccount }); // Français
    await inbound('+237670000102', '1', { phoneE164: '+237670000102', account: otherPushAccount }); // Acheter du WiFi
    const ordered = await inbound('+237670000102', '1', { phoneE164: '+237670000102', account: otherPushAccount }); // 1 jour
    expect(ordered.replies.map((reply) => reply.body.text)).toEqual(['Je demande 500 FCFA au +237670000102. Vous allez recevoir une demande de confirmation sur votre téléphone.']);
    const [ticket] = await db.withTenant(tenantId, (tx) => tx.select().from(tickets).where(and(eq(tickets.tenantId, tenantId), eq(tickets.conversationId, sms.conversationId))));
    expect(ticket).toMatchObject({ contactId: whatsapp.contactId, subject: 'Achat WiFi : 1 jour', status: 'open' });
    const [payment] = await db.withTenant(tenantId, (tx) => tx.select().from(outbox).where(and(eq(outbox.tenantId, tenantId), eq(outbox.topic, 'conversation.start_payment'))));
    expect(payment!.payload).toEqual({ conversationId: sms.conversationId, ticketId: ticket!.id, payerPhone: '+237670000102', attempt: 1 });

    // What happens to the ticket later reaches the same conversation, once per event however often it is delivered.
    const failed = { tenantId, ticketId: ticket!.id, eventKey: 'outbox-delivery-1', news: { kind: 'payment_failed' as const, reason: 'failed', attemptsLeft: 2 } };
    await notifyConversationOfTicket({ db, clock }, failed);
    await notifyConversationOfTicket({ db, clock }, failed);
    const outbound = (await messagesOf(sms.conversationId)).filter((row) => row.direction === 'outbound');
    expect(outbound.filter((row) => textOf(row.body).startsWith('Le paiement n’a pas abouti'))).toHaveLength(1);
    expect(textOf(outbound.at(-1)!.body)).toMatch(/encore 2 essais\)\.\n1\. Réessayer\n2\. Autre numéro\n3\. Menu$/);
    expect((await conversationRow(sms.conversationId)).state).toMatchObject({ step: 'pay_failed' });
  });

  it('answers a message delivered twice (same provider id) once, even when both copies arrive together', async () => {
    const first = await inbound('dup-contact', 'bonjour', { providerMessageId: 'wamid.same-1' });
    const again = await inbound('dup-contact', 'bonjour', { providerMessageId: 'wamid.same-1' });
    expect(again).toMatchObject({ duplicate: true, replies: [] });
    const together = await Promise.all([inbound('dup-contact', '2', { providerMessageId: 'wamid.same-2' }), inbound('dup-contact', '2', { providerMessageId: 'wamid.same-2' })]);
    expect(together.filter((outcome) => outcome.duplicate)).toHaveLength(1);
    const rows = await messagesOf(first.conversationId);
    expect(rows.filter((row) => row.direction === 'inbound')).toHaveLength(2);
    expect(rows.filter((row) => row.direction === 'outbound')).toHaveLength(3); // language question; "English" noted + menu
  });

  it('processes two messages of one conversation one at a time: replies in order, each after its message', async () => {
    const start = await inbound('busy-contact', 'bonjour', { account: webAccount, capabilities: BUTTON_CHANNEL });
    await inbound('busy-contact', 'Français', { account: webAccount, capabilities: BUTTON_CHANNEL });
    await Promise.all([
      inbound('busy-contact', 'Acheter du WiFi', { account: webAccount, capabilities: BUTTON_CHANNEL }),
      inbound('busy-contact', 'aide', { account: webAccount, capabilities: BUTTON_CHANNEL }),
    ]);
    const rows = (await messagesOf(start.conversationId)).slice(-4);
    expect(rows.map((row) => row.direction)).toEqual(['inbound', 'outbound', 'inbound', 'outbound']);
    // Each reply answers the message just before it.
    const replyTo = { 'Acheter du WiFi': 'Quel forfait voulez-vous ?', aide: 'Je suis le robot' } as Record<string, string>;
    expect(textOf(rows[1]!.body)).toContain(replyTo[textOf(rows[0]!.body)]!);
    expect(textOf(rows[3]!.body)).toContain(replyTo[textOf(rows[2]!.body)]!);
    // In-session channel: the replies were handed over with the response.
    expect(rows[1]!.status).toBe('sent');
  });

  it('answers a burst of many senders together: each message once, a conversation\'s messages in order, fewer transactions than messages', async () => {
    const web = { account: webAccount, capabilities: BUTTON_CHANNEL };
    const known = Array.from({ length: 10 }, (_, i) => `burst-${i}`);
    const started = new Map<string, string>();
    for (const sender of known) {
      started.set(sender, (await inbound(sender, 'bonjour', web)).conversationId);
      await inbound(sender, 'Français', web);
    }
    // Transactions counted on a handle of their own (its own batches): the same database underneath.
    let transactions = 0;
    const counted: Database = {
      driver: db.driver,
      runtimeRole: db.runtimeRole,
      withTenant: (id, work) => ((transactions += 1), db.withTenant(id, work)),
      withPlatform: (work) => db.withPlatform(work),
      ping: () => db.ping(),
      close: () => db.close(),
    };
    const send = (sender: string, text: string, providerMessageId = `burst-msg-${(messageCounter += 1)}`) =>
      handleInboundMessage(
        { db: counted, clock },
        { tenantId, channelAccountId: webAccount, sender: { externalId: sender }, providerMessageId, text, receivedAt: clock.now(), capabilities: BUTTON_CHANNEL },
      );
    const burst = await Promise.all([
      ...known.flatMap((sender) => [send(sender, 'aide'), send(sender, 'menu')]),
      send('burst-new-a', 'bonjour'),
      send('burst-new-b', 'bonjour'),
      send('burst-0', 'Mes tickets', 'burst-same-id'),
      send('burst-0', 'Mes tickets', 'burst-same-id'),
    ]);
    expect(burst.filter((outcome) => outcome.duplicate)).toHaveLength(1);
    expect(transactions).toBeLessThan(burst.length);
    for (const sender of known) {
      const rows = (await messagesOf(started.get(sender)!)).filter((row) => textOf(row.body) !== undefined);
      const afterLanguage = rows.slice(rows.findIndex((row) => row.direction === 'inbound' && textOf(row.body) === 'aide'));
      // Each message followed by its own reply, in the order they were sent.
      expect(afterLanguage.slice(0, 4).map((row) => row.direction)).toEqual(['inbound', 'outbound', 'inbound', 'outbound']);
      expect(textOf(afterLanguage[1]!.body)).toContain('Je suis le robot');
      expect(textOf(afterLanguage[2]!.body)).toBe('menu');
      expect(afterLanguage.filter((row) => row.direction === 'inbound' && textOf(row.body) === 'Mes tickets')).toHaveLength(sender === 'burst-0' ? 1 : 0);
    }
    for (const outcome of burst.slice(known.length * 2, known.length * 2 + 2)) expect(outcome.replies[0]!.body.text).toContain('Choisissez votre langue');
  });

  it('answers the lookups of a round together, while another turn of the same round hands off to an agent', async () => {
    const web = { account: webAccount, capabilities: BUTTON_CHANNEL };
    const askers = Array.from({ length: 6 }, (_, i) => `lookup-${i}`);
    for (const sender of [...askers, 'lookup-agent']) {
      await inbound(sender, 'bonjour', web);
      await inbound(sender, 'Français', web);
    }
    const [handedOff, ...answers] = await Promise.all([
      inbound('lookup-agent', 'agent', web),
      ...askers.map((sender, i) => inbound(sender, i % 2 === 0 ? 'Mon WiFi' : 'Mes tickets', web)),
    ]);
    expect(handedOff!.replies[0]!.body.text).toContain('Un agent va vous répondre');
    expect((await conversationRow(handedOff!.conversationId)).mode).toBe('agent');
    answers.forEach((answer, i) => {
      expect(answer.replies[0]!.body.text).toContain(i % 2 === 0 ? 'Vous n’avez pas encore de forfait WiFi' : 'Vous n’avez aucun ticket');
      expect(answer.awaitingAnswer).toBe(false);
    });
  });

  it('a bad message answered together with others fails alone', async () => {
    const web = { account: webAccount, capabilities: BUTTON_CHANNEL };
    const outcomes = await Promise.allSettled([
      inbound('batch-good-1', 'bonjour', web),
      inbound('batch-bad', 'bonjour', { ...web, account: '00000000-0000-4000-8000-000000000000' }),
      inbound('batch-good-2', 'bonjour', web),
    ]);
    expect(outcomes.map((outcome) => outcome.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((outcomes[1] as PromiseRejectedResult).reason).toMatchObject({ code: 'NOT_FOUND' });
    for (const outcome of [outcomes[0], outcomes[2]] as PromiseFulfilledResult<Awaited<ReturnType<typeof inbound>>>[]) {
      expect(outcome.value.replies[0]!.body.text).toContain('Choisissez votre langue');
    }
  });

  it('starts afresh after 30 minutes of silence, in the language the contact chose', async () => {
    const start = await inbound('sleepy-contact', 'hello');
    const chosen = await inbound('sleepy-contact', 'english');
    // Two replies written by one statement: `seq` keeps the order they were said in.
    expect(chosen.replies.map((reply) => reply.body.text)).toEqual([expect.stringContaining('English'), expect.stringMatching(/^What would you like to do\?/)]);
    const stored = (await messagesOf(start.conversationId)).filter((row) => row.direction === 'outbound').slice(-2);
    expect(stored.map((row) => row.id)).toEqual(chosen.replies.map((reply) => reply.id));
    expect(stored.map((row) => row.seq)).toEqual(chosen.replies.map((reply) => reply.seq));
    const packages = await inbound('sleepy-contact', '1');
    expect(packages.replies[0]!.body.text).toContain('Which package would you like?');
    const [contact] = await db.withTenant(tenantId, (tx) => tx.select().from(contacts).where(eq(contacts.id, start.contactId)));
    expect(contact!.locale).toBe('en');

    clock.advance(CONVERSATION_IDLE_EXPIRY_MS + 1_000);
    const fresh = await inbound('sleepy-contact', '1');
    // "1" no longer picks a package: a fresh start greets, in English, without asking the language again.
    expect(fresh.replies).toHaveLength(1);
    expect(fresh.replies[0]!.body.text).toMatch(/^Hello! This is Wifi Zone Akwa\. What would you like to do\?\n1\. Buy WiFi/);
    expect((await conversationRow(start.conversationId)).state).toMatchObject({ step: 'menu' });
  });

  it('hands off to an agent: the bot is paused until the contact writes "menu"', async () => {
    const start = await inbound('needs-human', 'bonjour');
    await inbound('needs-human', 'français');
    const handedOff = await inbound('needs-human', 'agent');
    expect(handedOff.replies[0]!.body.text).toContain('Un agent va vous répondre');
    expect((await conversationRow(start.conversationId)).mode).toBe('agent');
    // Under a ticket agents see (the conversation's own: ticket_id).
    const [handOffTicket] = await db.withTenant(tenantId, (tx) => tx.select().from(tickets).where(and(eq(tickets.tenantId, tenantId), eq(tickets.conversationId, start.conversationId))));
    expect(handOffTicket).toMatchObject({ subject: 'Demande de conseiller', status: 'open', contactId: start.contactId });
    expect((await conversationRow(start.conversationId)).ticketId).toBe(handOffTicket!.id);

    const paused = await inbound('needs-human', 'Ma connexion coupe tout le temps');
    expect(paused.replies).toEqual([]);
    // Still paused after the idle expiry: the agent may be answering.
    clock.advance(CONVERSATION_IDLE_EXPIRY_MS + 1_000);
    expect((await inbound('needs-human', '1')).replies).toEqual([]);
    const resumed = await inbound('needs-human', 'menu');
    expect(resumed.replies[0]!.body.text).toContain('Que voulez-vous faire ?');
    expect((await conversationRow(start.conversationId)).mode).toBe('bot');
    const inboundTexts = (await messagesOf(start.conversationId)).filter((row) => row.direction === 'inbound').map((row) => textOf(row.body));
    expect(inboundTexts).toContain('Ma connexion coupe tout le temps'); // kept for the agent
  });

  it('answers bad input politely and changes nothing else', async () => {
    const start = await inbound('odd-contact', 'bonjour');
    await inbound('odd-contact', 'français');
    await inbound('odd-contact', '1'); // the package list is open
    const before = await conversationRow(start.conversationId);
    const ticketsBefore = await db.withTenant(tenantId, (tx) => tx.select().from(tickets).where(eq(tickets.tenantId, tenantId)));
    const bad = ['', '   ', '😀🙏🎉', 'x'.repeat(5_000), '\u0000\u0001\u0002PNG\r\n', "'; DROP TABLE contacts; --", '<script>alert(1)</script>', '{{7*7}}'];
    for (const text of bad) {
      const outcome = await inbound('odd-contact', text);
      expect(outcome.replies).toHaveLength(1);
      expect(outcome.replies[0]!.body.text.length).toBeGreaterThan(10);
      expect(outcome.replies[0]!.body.choices).toBeUndefined();
    }
    const after = await conversationRow(start.conversationId);
    expect(after.state).toEqual(before.state);
    expect(after.mode).toBe(before.mode);
    expect(await db.withTenant(tenantId, (tx) => tx.select().from(tickets).where(eq(tickets.tenantId, tenantId)))).toHaveLength(ticketsBefore.length);
    // The package list still answers "1".
    expect((await inbound('odd-contact', '1')).replies[0]!.body.text).toContain('Quel numéro');
  });

  it('reads the catalogue at the turn that shows it: a package taken off sale is not offered a moment later', async () => {
    await inbound('shopper', 'bonjour');
    await inbound('shopper', 'français');
    expect((await inbound('shopper', 'Acheter du WiFi')).replies[0]!.body.text).toContain('Quel forfait voulez-vous ?');
    await db.withTenant(tenantId, (tx) => tx.update(wifiPackages).set({ active: false }).where(eq(wifiPackages.tenantId, tenantId)));
    try {
      await inbound('shopper', 'menu');
      const none = await inbound('shopper', 'Acheter du WiFi');
      expect(none.replies[0]!.body.text).toContain('aucun forfait n’est disponible');
      expect((await conversationRow(none.conversationId)).state).toMatchObject({ step: 'menu' });
    } finally {
      await db.withTenant(tenantId, (tx) => tx.update(wifiPackages).set({ active: true }).where(eq(wifiPackages.tenantId, tenantId)));
    }
  });

  /** Holds a conversation's lock as a turn would, runs `whileHeld` (which queues on it), then commits a new contact language. */
  async function commitLanguageWhileQueued<T>(conversationId: string, contactId: string, whileHeld: () => Promise<T>): Promise<T> {
    let queued: Promise<T> | undefined;
    await db.withTenant(tenantId, async (tx) => {
      await tx.select({ id: conversations.id }).from(conversations).where(and(eq(conversations.tenantId, tenantId), eq(conversations.id, conversationId))).for('update');
      queued = whileHeld();
      if (driver === 'postgres') {
        // Commit only once the other transaction waits for the lock (PGlite runs one transaction at a time: it waits anyway).
        for (let waiting = 0; waiting === 0; ) {
          await new Promise((resolve) => setTimeout(resolve, 5));
          waiting = Number(
            (await executeRows(tx, sql`select count(*)::int as waiting from pg_locks l join pg_stat_activity a on a.pid = l.pid where not l.granted and a.datname = current_database()`))[0]!.waiting,
          );
        }
      }
      await tx.update(contacts).set({ locale: 'en' }).where(and(eq(contacts.tenantId, tenantId), eq(contacts.id, contactId)));
      await tx.update(conversations).set({ version: sql`${conversations.version} + 1` }).where(and(eq(conversations.tenantId, tenantId), eq(conversations.id, conversationId)));
    });
    return queued!;
  }

  it('an event that waited for the conversation lock sees what the turn before it committed (the contact\'s new language)', async () => {
    const start = await inbound('waiting-event', 'bonjour');
    await inbound('waiting-event', 'français');
    const replies = await commitLanguageWhileQueued(start.conversationId, start.contactId, () =>
      applyConversationEvent(
        { db, clock },
        { tenantId, conversationId: start.conversationId, input: { kind: 'notice', text: { fr: 'Avis en français', en: 'Notice in English' } }, eventKey: 'test:waiting-event' },
      ),
    );
    expect(replies.map((reply) => reply.body.text)).toEqual(['Notice in English']);
    // Applied once: the same key again writes nothing.
    expect(await applyConversationEvent({ db, clock }, { tenantId, conversationId: start.conversationId, input: { kind: 'notice', text: { fr: 'x', en: 'x' } }, eventKey: 'test:waiting-event' })).toEqual([]);
  });

  it('a message that waited for the conversation lock is answered in the language the turn before it chose', async () => {
    const start = await inbound('waiting-message', 'bonjour');
    await inbound('waiting-message', 'français');
    const answered = await commitLanguageWhileQueued(start.conversationId, start.contactId, () => inbound('waiting-message', 'aide'));
    expect(answered.replies[0]!.body.text).toContain('I am this WiFi’s bot');
  });
});
