import { and, asc, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createAgent,
  createTenant,
  DEFAULT_WEEKLY_HOURS,
  deliverAgentReply,
  findOrCreateChannelAccount,
  getCsatSummary,
  handleInboundMessage,
  replyToTicket,
  requestTicketRating,
  setAgentAvailability,
  updateTicket,
  type ChannelCapabilities,
} from '@relais/core';
import { contacts, conversationMessages, conversations, csatResponses, helpdeskSettings, outbox, ticketEvents, ticketMessages, tickets, type Database, type Tx } from '@relais/db';
import { steppedClock } from '../support/stepped-clock.js';
import { createTestDatabase, testDrivers, type TestDatabase } from '../support/test-database.js';
import { createPricedTicket } from '../support/ticket-fixtures.js';

/** A push channel with numbered lists (WhatsApp through Baileys declares this). */
const LIST_CHANNEL: ChannelCapabilities = { buttons: false, maxButtons: 0, images: true, maxTextLength: 1000, plainTextOnly: false, replyInSession: false };
const HOUR_MS = 3_600_000;

// The conversation engine and the helpdesk through their use cases, on each driver: hand-off into
// a ticket, texts relayed while an agent holds the chat, agent replies sent back (once), the
// reopen rule, the survey after resolution and its averages.
describe.each(testDrivers())('conversations meet the helpdesk on %s', (driver) => {
  let test: TestDatabase;
  let db: Database;
  const clock = steppedClock();
  let tenantId: string;
  let adminId: string;
  let accountId: string;
  let agentId: string;
  let counter = 0;

  beforeAll(async () => {
    test = await createTestDatabase(driver);
    db = test.db;
    const created = await createTenant({ db, clock }, { name: 'Wifi Zone Akwa', email: `helpdesk-${driver}@example.cm`, mode: 'commission' });
    tenantId = created.tenant.id;
    adminId = created.admin.id;
    accountId = (await findOrCreateChannelAccount({ db }, { tenantId, kind: 'whatsapp', name: 'WhatsApp' })).id;
    agentId = (await createAgent({ db, clock }, { tenantId, email: `awa-${driver}@example.cm`, name: 'Awa Ngono' })).userId;
    await setAgentAvailability({ db, clock }, { tenantId, userId: agentId, availability: 'available' });
  });
  afterAll(async () => {
    await test?.drop();
  });

  function customer(name: string) {
    const externalId = `${name}-${driver}@s.whatsapp.net`;
    return (text: string) => {
      counter += 1;
      return handleInboundMessage(
        { db, clock },
        { tenantId, channelAccountId: accountId, sender: { externalId }, providerMessageId: `wamid-${counter}`, text, receivedAt: clock.now(), capabilities: LIST_CHANNEL },
      );
    };
  }

  const inTenant = <T>(work: (tx: Tx) => Promise<T>) => db.withTenant(tenantId, (tx) => work(tx));
  const conversationOf = async (conversationId: string) =>
    (await inTenant((tx) => tx.select().from(conversations).where(and(eq(conversations.tenantId, tenantId), eq(conversations.id, conversationId)))))[0]!;
  const ticketsOf = (conversationId: string) =>
    inTenant((tx) => tx.select().from(tickets).where(and(eq(tickets.tenantId, tenantId), eq(tickets.conversationId, conversationId))).orderBy(asc(tickets.number)));
  const messagesOnTicket = (ticketId: string) =>
    inTenant((tx) => tx.select().from(ticketMessages).where(and(eq(ticketMessages.tenantId, tenantId), eq(ticketMessages.ticketId, ticketId))).orderBy(asc(ticketMessages.createdAt)));
  const outboundOf = async (conversationId: string) =>
    (
      await inTenant((tx) =>
        tx
          .select()
          .from(conversationMessages)
          .where(and(eq(conversationMessages.tenantId, tenantId), eq(conversationMessages.conversationId, conversationId), eq(conversationMessages.direction, 'outbound')))
          .orderBy(asc(conversationMessages.seq)),
      )
    ).map((row) => ({ text: (row.body as { text: string }).text, status: row.status }));
  const outboxOf = (topic: string) => inTenant((tx) => tx.select().from(outbox).where(and(eq(outbox.tenantId, tenantId), eq(outbox.topic, topic))));

  /** bonjour, français, agent: returns the conversation and its hand-off ticket. */
  async function handOff(say: ReturnType<typeof customer>) {
    const start = await say('bonjour');
    await say('Français');
    const handedOff = await say('agent');
    expect(handedOff.replies.map((reply) => reply.body.text)).toEqual([expect.stringContaining('Un agent va vous répondre ici')]);
    const [ticket] = await ticketsOf(start.conversationId);
    return { conversationId: start.conversationId, contactId: start.contactId, ticket: ticket! };
  }

  it('hands off into a new ticket with a transcript, relays what the customer writes, and reuses the open ticket on a second "agent"', async () => {
    const say = customer('needs-human');
    const { conversationId, contactId, ticket } = await handOff(say);
    expect(ticket).toMatchObject({ subject: 'Demande de conseiller', status: 'open', contactId, categoryId: null, assigneeId: agentId });
    const conversation = await conversationOf(conversationId);
    expect(conversation).toMatchObject({ mode: 'agent', ticketId: ticket.id });
    const [transcript] = await messagesOnTicket(ticket.id);
    expect(transcript!.authorKind).toBe('customer');
    expect(transcript!.body.split('\n')).toEqual([
      'Derniers messages de la conversation :',
      'Client : bonjour',
      expect.stringMatching(/^Robot : Bienvenue chez Wifi Zone Akwa ! .* \| 1\. Français \| 2\. English$/),
      'Client : Français',
      'Robot : C’est noté, je vous parle en français.',
      expect.stringMatching(/^Robot : Que voulez-vous faire \? \| 1\. Acheter du WiFi/),
      'Client : agent',
    ]);
    // No outbox message for the hand-off any more: the ticket is the signal (its `created` event).
    expect(await outboxOf('conversation.handed_off')).toEqual([]);

    const relayed = await say('Ma connexion coupe tout le temps');
    expect(relayed.replies).toEqual([]);
    const onTicket = await messagesOnTicket(ticket.id);
    expect(onTicket.at(-1)).toMatchObject({ authorKind: 'customer', body: 'Ma connexion coupe tout le temps', isPrivate: false });
    const customerReplied = await inTenant((tx) => tx.select().from(ticketEvents).where(and(eq(ticketEvents.ticketId, ticket.id), eq(ticketEvents.kind, 'customer_replied'))));
    expect(customerReplied).toHaveLength(1);

    // Back to the bot, then "agent" again: the same ticket, told the customer is asking again.
    expect((await say('menu')).replies[0]!.body.text).toContain('Que voulez-vous faire ?');
    expect((await conversationOf(conversationId)).mode).toBe('bot');
    await say('agent');
    expect(await ticketsOf(conversationId)).toHaveLength(1);
    expect(await conversationOf(conversationId)).toMatchObject({ mode: 'agent', ticketId: ticket.id });
    expect((await messagesOnTicket(ticket.id)).at(-1)!.body).toMatch(/^Derniers messages de la conversation :\n[\s\S]*\nClient : agent$/);
  });

  it("sends an agent's public reply on the customer's channel once per delivery, never a private note", async () => {
    const say = customer('gets-answers');
    const { conversationId, ticket } = await handOff(say);
    const before = (await outboundOf(conversationId)).length;
    const { messageId } = await replyToTicket({ db, clock }, { tenantId, userId: agentId, ticketId: ticket.id, body: 'Bonjour, redémarrez le routeur svp.' });
    const [queued] = (await outboxOf('ticket.agent_replied')).filter((row) => (row.payload as { messageId: string }).messageId === messageId);
    const delivery = { tenantId, ticketId: ticket.id, messageId, eventKey: queued!.id };
    expect(await deliverAgentReply({ db, clock }, delivery)).toEqual({ delivered: true });
    expect(await deliverAgentReply({ db, clock }, delivery)).toEqual({ delivered: false });
    const outbound = await outboundOf(conversationId);
    expect(outbound.slice(before)).toEqual([{ text: 'Awa : Bonjour, redémarrez le routeur svp.', status: 'pending' }]);

    const note = await replyToTicket({ db, clock }, { tenantId, userId: agentId, ticketId: ticket.id, body: 'Client difficile', isPrivate: true });
    expect((await outboxOf('ticket.agent_replied')).some((row) => (row.payload as { messageId: string }).messageId === note.messageId)).toBe(false);
    expect(await deliverAgentReply({ db, clock }, { tenantId, ticketId: ticket.id, messageId: note.messageId, eventKey: 'note-delivery' })).toEqual({ delivered: false });
    expect(await outboundOf(conversationId)).toHaveLength(before + 1);

    // A ticket opened outside any chat: nothing to deliver.
    const phoned = await createPricedTicket(db, tenantId, 0);
    const phonedReply = await replyToTicket({ db, clock }, { tenantId, userId: adminId, ticketId: phoned.ticketId, body: 'Rappel demain.' });
    expect(await deliverAgentReply({ db, clock }, { tenantId, ticketId: phoned.ticketId, messageId: phonedReply.messageId, eventKey: 'phoned' })).toEqual({ delivered: false });
  });

  it('resolution: the bot is back and asks for a rating; the rating (with its agent) and the comment are recorded once; averages follow', async () => {
    const say = customer('rates-us');
    const periodStart = clock.now();
    const { conversationId, contactId, ticket } = await handOff(say);
    await replyToTicket({ db, clock }, { tenantId, userId: agentId, ticketId: ticket.id, body: 'C’est réparé.' });
    await updateTicket({ db, clock }, { tenantId, userId: agentId, ticketId: ticket.id, changes: { status: 'resolved' } });
    expect(await conversationOf(conversationId)).toMatchObject({ mode: 'bot', ticketId: null });

    const [resolved] = (await outboxOf('ticket.resolved')).filter((row) => (row.payload as { ticketId: string }).ticketId === ticket.id);
    expect(await requestTicketRating({ db, clock }, { tenantId, ticketId: ticket.id, eventKey: resolved!.id })).toEqual({ requested: true });
    // Redelivered: asked once.
    expect(await requestTicketRating({ db, clock }, { tenantId, ticketId: ticket.id, eventKey: resolved!.id })).toEqual({ requested: false, reason: 'not_asked' });
    const asked = (await outboundOf(conversationId)).filter((message) => message.text.includes(`ticket n° ${ticket.number} est résolu`));
    expect(asked).toHaveLength(1);
    expect(asked[0]!.text).toMatch(/\n1\. 1 ⭐\n2\. 2 ⭐⭐\n3\. 3 ⭐⭐⭐\n4\. 4 ⭐⭐⭐⭐\n5\. 5 ⭐⭐⭐⭐⭐$/);
    const waiting = await conversationOf(conversationId);
    expect(waiting.state).toMatchObject({ step: 'csat_rate', csat: { ticketId: ticket.id } });
    // The question stays answerable for a while even if the customer's last message is old.
    expect(waiting.expiresAt!.getTime()).toBeGreaterThan(clock.now().getTime());

    const rated = await say('4');
    expect(rated.replies[0]!.body.text).toContain('Un commentaire ?');
    const commented = await say('Très efficace, merci Awa');
    expect(commented.replies[0]!.body.text).toMatch(/^Merci pour votre avis !/);
    const [response] = await inTenant((tx) => tx.select().from(csatResponses).where(and(eq(csatResponses.tenantId, tenantId), eq(csatResponses.ticketId, ticket.id))));
    expect(response).toMatchObject({ rating: 4, agentId, contactId, comment: 'Très efficace, merci Awa' });
    const events = await inTenant((tx) => tx.select().from(ticketEvents).where(and(eq(ticketEvents.ticketId, ticket.id), eq(ticketEvents.kind, 'csat_received'))));
    expect(events.map((event) => event.data)).toEqual([expect.objectContaining({ rating: 4, agentId })]);
    // The ticket stays resolved: answering the survey is not a new request.
    expect((await ticketsOf(conversationId))[0]!.status).toBe('resolved');
    expect(await requestTicketRating({ db, clock }, { tenantId, ticketId: ticket.id, eventKey: 'another-delivery' })).toEqual({ requested: false, reason: 'already_rated' });

    const summary = await getCsatSummary({ db }, { tenantId, from: periodStart, to: new Date(clock.now().getTime() + 1000) });
    expect(summary.tenant).toEqual({ average: 4, count: 1, distribution: { 1: 0, 2: 0, 3: 0, 4: 1, 5: 0 } });
    expect(summary.agents).toEqual([{ agentId, name: 'Awa Ngono', average: 4, count: 1 }]);
    const before = await getCsatSummary({ db }, { tenantId, from: new Date(periodStart.getTime() - 2 * HOUR_MS), to: periodStart });
    expect(before.tenant).toEqual({ average: null, count: 0, distribution: { 1: 0, 2: 0, 3: 0, 4: 0, 5: 0 } });
  });

  it('after resolution, the bot answers in bot mode; in agent mode a message reopens the ticket within the window, and opens a new one after it', async () => {
    const say = customer('comes-back');
    const { conversationId, ticket } = await handOff(say);
    await replyToTicket({ db, clock }, { tenantId, userId: agentId, ticketId: ticket.id, body: 'Essayez maintenant.' });
    await updateTicket({ db, clock }, { tenantId, userId: agentId, ticketId: ticket.id, changes: { status: 'resolved' } });

    // Bot mode (the survey aside): the customer asked for the bot; the ticket is left alone.
    const botAnswer = await say('ça ne marche toujours pas');
    expect(botAnswer.replies.length).toBeGreaterThan(0);
    expect((await ticketsOf(conversationId))[0]!.status).toBe('resolved');
    expect((await messagesOnTicket(ticket.id)).some((message) => message.body === 'ça ne marche toujours pas')).toBe(false);

    // The agent follows up on the resolved ticket: the conversation is theirs again, and the answer reopens it.
    await replyToTicket({ db, clock }, { tenantId, userId: agentId, ticketId: ticket.id, body: 'Est-ce que ça marche ?' });
    expect(await conversationOf(conversationId)).toMatchObject({ mode: 'agent', ticketId: ticket.id });
    expect((await say('Non, toujours rien')).replies).toEqual([]);
    const [reopened] = await ticketsOf(conversationId);
    expect(reopened).toMatchObject({ id: ticket.id, status: 'open' });
    expect((await messagesOnTicket(ticket.id)).at(-1)!.body).toBe('Non, toujours rien');

    // Resolved again; the agent writes once more, and the customer answers after the 72 h window: a new ticket.
    await updateTicket({ db, clock }, { tenantId, userId: agentId, ticketId: ticket.id, changes: { status: 'resolved' } });
    await replyToTicket({ db, clock }, { tenantId, userId: agentId, ticketId: ticket.id, body: 'Tout va bien ?' });
    clock.advance(73 * HOUR_MS);
    try {
      expect((await say('Ça recommence')).replies).toEqual([]);
      const [old, fresh] = await ticketsOf(conversationId);
      expect(old).toMatchObject({ id: ticket.id, status: 'resolved' });
      expect(fresh).toMatchObject({ status: 'open', subject: ticket.subject });
      expect(await conversationOf(conversationId)).toMatchObject({ mode: 'agent', ticketId: fresh!.id });
      expect((await messagesOnTicket(fresh!.id)).map((message) => message.body)).toEqual(['Ça recommence']);
    } finally {
      clock.advance(-73 * HOUR_MS);
    }
  });

  it('rates the agent who answered when the ticket has no assignee', async () => {
    const say = customer('unassigned');
    await setAgentAvailability({ db, clock }, { tenantId, userId: agentId, availability: 'away' });
    const ticketId = await handOff(say)
      .then(({ ticket }) => ticket.id)
      .finally(() => setAgentAvailability({ db, clock }, { tenantId, userId: agentId, availability: 'available' }));
    await replyToTicket({ db, clock }, { tenantId, userId: agentId, ticketId, body: 'Je m’en occupe.' });
    await updateTicket({ db, clock }, { tenantId, userId: adminId, ticketId, changes: { status: 'resolved' } });
    expect(await requestTicketRating({ db, clock }, { tenantId, ticketId, eventKey: 'unassigned' })).toEqual({ requested: true });
    expect((await say('5')).replies[0]!.body.text).toContain('Un commentaire ?');
    expect((await say('non')).replies[0]!.body.text).toMatch(/^Merci pour votre avis !/);
    const [response] = await inTenant((tx) => tx.select().from(csatResponses).where(and(eq(csatResponses.tenantId, tenantId), eq(csatResponses.ticketId, ticketId))));
    expect(response).toMatchObject({ rating: 5, agentId, comment: null });
  });

  it('a hand-off the plan refuses (no ticket left this month) leaves the customer with the bot, told so', async () => {
    const starter = await createTenant({ db, clock }, { name: 'Wifi Zone Limite', email: `limit-${driver}@example.cm`, plan: 'starter' });
    const limitedTenant = starter.tenant.id;
    const account = (await findOrCreateChannelAccount({ db }, { tenantId: limitedTenant, kind: 'whatsapp', name: 'WhatsApp' })).id;
    // This month's 100 tickets of the Starter plan are already used.
    await db.withTenant(limitedTenant, async (tx) => {
      const [contact] = await tx.insert(contacts).values({ tenantId: limitedTenant, name: 'Seed' }).returning({ id: contacts.id });
      await tx.insert(tickets).values(Array.from({ length: 100 }, (_, index) => ({ tenantId: limitedTenant, number: index + 1, contactId: contact!.id, subject: 'seed', createdAt: clock.now() })));
    });
    const say = (text: string) => {
      counter += 1;
      return handleInboundMessage(
        { db, clock },
        { tenantId: limitedTenant, channelAccountId: account, sender: { externalId: `limited-${driver}` }, providerMessageId: `wamid-${counter}`, text, receivedAt: clock.now(), capabilities: LIST_CHANNEL },
      );
    };
    await say('bonjour');
    await say('Français');
    const refused = await say('agent');
    expect(refused.replies.map((reply) => reply.body.text)).toEqual([
      expect.stringContaining('Un agent va vous répondre ici'),
      expect.stringMatching(/^Désolé, aucun agent ne peut prendre votre demande pour le moment\.[\s\S]*\n1\. Acheter du WiFi/),
    ]);
    const [conversation] = await db.withTenant(limitedTenant, (tx) => tx.select().from(conversations).where(eq(conversations.id, refused.conversationId)));
    expect(conversation).toMatchObject({ mode: 'bot', ticketId: null });
    expect((await db.withTenant(limitedTenant, (tx) => tx.select().from(tickets).where(eq(tickets.conversationId, refused.conversationId))))).toEqual([]);
    // The bot answers again.
    expect((await say('aide')).replies[0]!.body.text).toContain('Je suis le robot');
  });

  it('asks for no rating when the survey is off, when nobody worked on the ticket, or when it has no conversation', async () => {
    // Nobody worked on it: the agent is away (no auto-assignment) and an admin resolves it without a word.
    await setAgentAvailability({ db, clock }, { tenantId, userId: agentId, availability: 'away' });
    try {
      const { ticket } = await handOff(customer('left-alone'));
      expect(ticket.assigneeId).toBeNull();
      await updateTicket({ db, clock }, { tenantId, userId: adminId, ticketId: ticket.id, changes: { status: 'resolved' } });
      expect(await requestTicketRating({ db, clock }, { tenantId, ticketId: ticket.id, eventKey: 'nobody' })).toEqual({ requested: false, reason: 'nobody_worked_on_it' });
    } finally {
      await setAgentAvailability({ db, clock }, { tenantId, userId: agentId, availability: 'available' });
    }

    const phoned = await createPricedTicket(db, tenantId, 0);
    expect(await requestTicketRating({ db, clock }, { tenantId, ticketId: phoned.ticketId, eventKey: 'phoned' })).toEqual({ requested: false, reason: 'no_conversation' });

    const { ticket } = await handOff(customer('survey-off'));
    await updateTicket({ db, clock }, { tenantId, userId: agentId, ticketId: ticket.id, changes: { status: 'resolved' } });
    const setCsat = (csatEnabled: boolean) =>
      inTenant((tx) =>
        tx.insert(helpdeskSettings).values({ tenantId, weeklyHours: DEFAULT_WEEKLY_HOURS, csatEnabled }).onConflictDoUpdate({ target: helpdeskSettings.tenantId, set: { csatEnabled } }),
      );
    await setCsat(false);
    try {
      expect(await requestTicketRating({ db, clock }, { tenantId, ticketId: ticket.id, eventKey: 'off' })).toEqual({ requested: false, reason: 'csat_disabled' });
    } finally {
      await setCsat(true);
    }
  });
});
