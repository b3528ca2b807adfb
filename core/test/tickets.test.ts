import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { and, asc, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  addCustomerMessage,
  addTeamMember,
  attachFileToTicket,
  createAgent,
  createLocalDiskFileStore,
  createTeam,
  createTenant,
  createTicket,
  getTicketDetail,
  mergeTickets,
  openTicket,
  readTicketAttachment,
  replyToTicket,
  setAgentAvailability,
  updateTicket,
  type FileStore,
} from '@relais/core';
import { contacts, conversations, notifications, outbox, ticketEvents, ticketMessages, tickets, users, channelAccounts, type Database } from '@relais/db';
import { errorOf } from '../../tests/support/app-error-of.js';
import { steppedClock } from '../../tests/support/stepped-clock.js';
import { createTestDatabase, testDrivers, type TestDatabase } from '../../tests/support/test-database.js';

describe.each(testDrivers())('tickets on %s', (driver) => {
  let test: TestDatabase;
  let db: Database;
  let files: FileStore;
  let filesDir: string;
  const clock = steppedClock();
  let counter = 0;

  beforeAll(async () => {
    test = await createTestDatabase(driver);
    db = test.db;
    filesDir = await mkdtemp(join(tmpdir(), 'relais-tickets-'));
    files = createLocalDiskFileStore(filesDir);
  });
  afterAll(async () => {
    await test?.drop();
    await rm(filesDir, { recursive: true, force: true });
  });

  /** A tenant on the Enterprise plan (no ticket or agent limits unless asked), its admin, a contact. */
  async function workspace(plan: 'starter' | 'enterprise' = 'enterprise') {
    counter += 1;
    const deps = { db, clock };
    const { tenant, admin } = await createTenant(deps, { name: `Helpdesk ${counter}`, email: `helpdesk-${driver}-${counter}@example.cm`, plan });
    const contactId = await db.withTenant(tenant.id, async (tx) => (await tx.insert(contacts).values({ tenantId: tenant.id, name: 'Awa' }).returning())[0]!.id);
    return { tenantId: tenant.id, adminId: admin.id, contactId, deps };
  }

  async function agent(tenantId: string, name: string, availability: 'available' | 'away' | 'offline' = 'available', maxOpenTickets = 20) {
    const { userId } = await createAgent({ db, clock }, { tenantId, email: `${name.toLowerCase()}-${counter}@example.cm`, name });
    await setAgentAvailability({ db, clock }, { tenantId, userId, availability, maxOpenTickets });
    return userId;
  }

  async function ticketRow(tenantId: string, ticketId: string) {
    return db.withTenant(tenantId, async (tx) => (await tx.select().from(tickets).where(eq(tickets.id, ticketId)))[0]!);
  }

  async function eventsOf(tenantId: string, ticketId: string) {
    return db.withTenant(tenantId, (tx) => tx.select().from(ticketEvents).where(eq(ticketEvents.ticketId, ticketId)).orderBy(asc(ticketEvents.createdAt)));
  }

  it('numbers tickets without gaps when many are opened at once', async () => {
    const { tenantId, adminId, contactId, deps } = await workspace();
    const opened = await Promise.all(Array.from({ length: 30 }, (_, i) => createTicket(deps, { tenantId, userId: adminId, contactId, subject: `Panne ${i}` })));
    expect(opened.map((ticket) => ticket.ticketNumber).sort((a, b) => a - b)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    const events = await eventsOf(tenantId, opened[0]!.ticketId);
    expect(events.map((event) => event.kind)).toContain('created');
  });

  it('assigns round-robin among available agents, skipping away and offline ones and full ones, fairly under concurrency', async () => {
    const { tenantId, adminId, contactId, deps } = await workspace();
    const ada = await agent(tenantId, 'Ada');
    const ben = await agent(tenantId, 'Ben');
    const chloe = await agent(tenantId, 'Chloe', 'available', 2);
    await agent(tenantId, 'Dan', 'away');
    await agent(tenantId, 'Eve', 'offline');
    const opened = await Promise.all(Array.from({ length: 20 }, (_, i) => createTicket(deps, { tenantId, userId: adminId, contactId, subject: `Demande ${i}` })));
    const load = new Map<string | null, number>();
    for (const ticket of opened) load.set(ticket.assigneeId, (load.get(ticket.assigneeId) ?? 0) + 1);
    // Chloe stops at her capacity of 2; Ada and Ben share the rest evenly; nobody away or offline gets one.
    expect(load.get(chloe)).toBe(2);
    expect(load.get(ada)).toBe(9);
    expect(load.get(ben)).toBe(9);
    expect([...load.keys()].sort()).toEqual([ada, ben, chloe].sort());
    // The assignee is notified.
    const notified = await db.withTenant(tenantId, (tx) => tx.select().from(notifications).where(and(eq(notifications.userId, ada), eq(notifications.kind, 'ticket.assigned'))));
    expect(notified).toHaveLength(9);

    // The load column (kept by a trigger) follows status and assignee changes: Chloe's resolved
    // ticket frees a place, and reassigning one of Ada's moves one unit of load to Ben.
    const loads = async () =>
      Object.fromEntries((await db.withTenant(tenantId, (tx) => tx.select({ id: users.id, open: users.openTickets }).from(users))).map((user) => [user.id, user.open]));
    expect(await loads()).toMatchObject({ [ada]: 9, [ben]: 9, [chloe]: 2 });
    const chloes = opened.find((ticket) => ticket.assigneeId === chloe)!;
    await updateTicket(deps, { tenantId, userId: adminId, ticketId: chloes.ticketId, changes: { status: 'resolved' } });
    const adas = opened.find((ticket) => ticket.assigneeId === ada)!;
    await updateTicket(deps, { tenantId, userId: adminId, ticketId: adas.ticketId, changes: { assigneeId: ben } });
    expect(await loads()).toMatchObject({ [ada]: 8, [ben]: 10, [chloe]: 1 });
    expect((await createTicket(deps, { tenantId, userId: adminId, contactId, subject: 'Suivante' })).assigneeId).toBe(chloe);
  });

  it('leaves a ticket unassigned when nobody can take it, and routes to a team', async () => {
    const { tenantId, adminId, contactId, deps } = await workspace();
    const { ticketId, assigneeId } = await createTicket(deps, { tenantId, userId: adminId, contactId, subject: 'Personne' });
    expect(assigneeId).toBeNull();
    const ada = await agent(tenantId, 'Ada');
    const ben = await agent(tenantId, 'Ben');
    const { teamId } = await createTeam(deps, { tenantId, name: 'Facturation' });
    await addTeamMember(deps, { tenantId, teamId, userId: ben });
    expect((await errorOf(createTeam(deps, { tenantId, name: 'facturation' }))).code).toBe('CONFLICT');
    const routed = await Promise.all(Array.from({ length: 4 }, () => createTicket(deps, { tenantId, userId: adminId, contactId, subject: 'Facture', teamId })));
    expect(routed.every((ticket) => ticket.assigneeId === ben)).toBe(true);
    // Moving the unassigned ticket to the team gives it to the team's agent; manual reassignment to Ada.
    await updateTicket(deps, { tenantId, userId: adminId, ticketId, changes: { teamId } });
    expect((await ticketRow(tenantId, ticketId)).assigneeId).toBe(ben);
    await updateTicket(deps, { tenantId, userId: adminId, ticketId, changes: { assigneeId: ada } });
    expect((await ticketRow(tenantId, ticketId)).assigneeId).toBe(ada);
  });

  it('opens a burst in batches as one at a time would: gap-free numbers, level loads, refusals alone, beside openings in other transactions', async () => {
    const { tenantId, adminId, contactId, deps } = await workspace();
    const agents = [await agent(tenantId, 'Ada'), await agent(tenantId, 'Ben'), await agent(tenantId, 'Chloe')];
    // createTicket batches a tenant's openings; openTicket in a caller's own transaction takes
    // the same counter lock, so both kinds interleave without gaps or unfair picks.
    const burst = Array.from({ length: 24 }, (_, i) => createTicket(deps, { tenantId, userId: adminId, contactId, subject: `Rafale ${i}`, description: `Message ${i}` }));
    const unknownContact = createTicket(deps, { tenantId, userId: adminId, contactId: '00000000-0000-4000-8000-000000000000', subject: 'Inconnu' });
    const byHand = createTicket(deps, { tenantId, userId: adminId, contactId, subject: 'À Ben', assigneeId: agents[1]! });
    const inTransactions = Array.from({ length: 6 }, (_, i) =>
      db.withTenant(tenantId, (tx) =>
        openTicket(tx, { tenantId, actor: { kind: 'customer', contactId }, contactId, subject: `Conversation ${i}`, description: 'Bonjour', now: clock.now() }),
      ),
    );
    expect((await errorOf(unknownContact)).code).toBe('NOT_FOUND');
    const opened = [...(await Promise.all(burst)), await byHand, ...(await Promise.all(inTransactions))];
    expect(opened.map((ticket) => ticket.ticketNumber).sort((a, b) => a - b)).toEqual(Array.from({ length: 31 }, (_, i) => i + 1));
    expect(opened.every((ticket) => ticket.assigneeId !== null)).toBe(true);
    const loads = (await db.withTenant(tenantId, (tx) => tx.select({ id: users.id, open: users.openTickets }).from(users))).filter((user) => agents.includes(user.id));
    expect(Math.max(...loads.map((user) => user.open)) - Math.min(...loads.map((user) => user.open))).toBeLessThanOrEqual(1);
    expect(loads.reduce((sum, user) => sum + user.open, 0)).toBe(31);
    // Each ticket has its message, its events (and the created one's outbox row) and its assignee's notice.
    const first = opened[0]!;
    expect((await eventsOf(tenantId, first.ticketId)).map((event) => event.kind).sort()).toEqual(['assigned', 'created']);
    const counts = await db.withTenant(tenantId, async (tx) => ({
      messages: (await tx.select().from(ticketMessages)).length,
      notices: (await tx.select().from(notifications).where(eq(notifications.kind, 'ticket.assigned'))).length,
      outbox: (await tx.select().from(outbox).where(eq(outbox.topic, 'ticket.event'))).length,
    }));
    expect(counts).toEqual({ messages: 30, notices: 31, outbox: 31 });
  });

  it('opens a burst one at a time on a plan with a monthly quota: the last places are taken once', async () => {
    const { tenantId, adminId, contactId, deps } = await workspace('starter');
    await db.withTenant(tenantId, async (tx) => {
      const rows = Array.from({ length: 97 }, (_, i) => ({ tenantId, number: 10_000 + i, contactId, subject: 'Ancien', createdAt: clock.now() }));
      await tx.insert(tickets).values(rows);
    });
    const results = await Promise.allSettled(Array.from({ length: 6 }, (_, i) => createTicket(deps, { tenantId, userId: adminId, contactId, subject: `Fin de mois ${i}` })));
    const numbers = results.flatMap((result) => (result.status === 'fulfilled' ? [result.value.ticketNumber] : []));
    expect(numbers.sort((a, b) => a - b)).toEqual([1, 2, 3]);
    expect(results.filter((result) => result.status === 'rejected').map((result) => ((result as PromiseRejectedResult).reason as { code: string }).code)).toEqual([
      'PLAN_LIMIT_REACHED',
      'PLAN_LIMIT_REACHED',
      'PLAN_LIMIT_REACHED',
    ]);
  });

  it("enforces the plan's agent seats", async () => {
    const { tenantId, deps } = await workspace('starter');
    for (const name of ['A', 'B', 'C']) await createAgent(deps, { tenantId, email: `${name}-${counter}@example.cm`, name });
    const refused = await errorOf(createAgent(deps, { tenantId, email: `d-${counter}@example.cm`, name: 'D' }));
    expect(refused.code).toBe('PLAN_LIMIT_REACHED');
    expect((await errorOf(createAgent(deps, { tenantId, email: `A-${counter}@example.cm`, name: 'A again', role: 'admin' }))).code).toBe('CONFLICT');
  });

  it("lets an agent act on unassigned, own and team tickets only, and never on another tenant's", async () => {
    const { tenantId, adminId, contactId, deps } = await workspace();
    const ada = await agent(tenantId, 'Ada');
    const ben = await agent(tenantId, 'Ben', 'offline');
    const { ticketId } = await createTicket(deps, { tenantId, userId: adminId, contactId, subject: 'À Ada', assigneeId: ada });
    expect((await errorOf(updateTicket(deps, { tenantId, userId: ben, ticketId, changes: { priority: 'high' } }))).code).toBe('FORBIDDEN');
    expect((await errorOf(replyToTicket(deps, { tenantId, userId: ben, ticketId, body: 'Bonjour' }))).code).toBe('FORBIDDEN');
    await updateTicket(deps, { tenantId, userId: ada, ticketId, changes: { priority: 'high', addTags: ['Fibre Optique', 'urgent'] } });
    const row = await ticketRow(tenantId, ticketId);
    expect(row.priority).toBe('high');
    expect(row.tags).toEqual(['fibre-optique', 'urgent']);

    const other = await workspace();
    expect((await errorOf(updateTicket(other.deps, { tenantId: other.tenantId, userId: other.adminId, ticketId, changes: { status: 'resolved' } }))).code).toBe('NOT_FOUND');
    expect((await errorOf(updateTicket(deps, { tenantId, userId: other.adminId, ticketId, changes: { status: 'resolved' } }))).code).toBe('FORBIDDEN');
    expect((await ticketRow(tenantId, ticketId)).status).toBe('open');
  });

  it("sends an agent's reply through the outbox, takes the conversation from the bot, and notifies mentions in private notes", async () => {
    const { tenantId, adminId, contactId, deps } = await workspace();
    const ada = await agent(tenantId, 'Ada');
    const conversationId = await db.withTenant(tenantId, async (tx) => {
      const [account] = await tx.insert(channelAccounts).values({ tenantId, kind: 'webchat', name: 'Web' }).returning();
      const [conversation] = await tx.insert(conversations).values({ tenantId, channelAccountId: account!.id, contactId }).returning();
      return conversation!.id;
    });
    const { ticketId } = await db.withTenant(tenantId, (tx) =>
      openTicket(tx, { tenantId, actor: { kind: 'customer', contactId }, contactId, subject: 'Pas de connexion', description: 'Rien ne marche', conversationId, assigneeId: ada, now: clock.now() }),
    );
    clock.advance(60_000);
    const { messageId } = await replyToTicket(deps, { tenantId, userId: ada, ticketId, body: 'Bonjour, je regarde.' });
    const row = await ticketRow(tenantId, ticketId);
    expect(row.firstRespondedAt).not.toBeNull();
    const [conversation] = await db.withTenant(tenantId, (tx) => tx.select().from(conversations).where(eq(conversations.id, conversationId)));
    expect(conversation).toMatchObject({ mode: 'agent', ticketId });
    const sent = await db.withTenant(tenantId, (tx) => tx.select().from(outbox).where(eq(outbox.topic, 'ticket.agent_replied')));
    expect(sent.map((message) => message.payload)).toEqual([{ ticketId, messageId }]);

    await replyToTicket(deps, { tenantId, userId: ada, ticketId, body: '@Admin peux-tu vérifier le routeur ?', isPrivate: true, mentionedUserIds: [adminId] });
    const mentions = await db.withTenant(tenantId, (tx) => tx.select().from(notifications).where(and(eq(notifications.userId, adminId), eq(notifications.kind, 'ticket.mentioned'))));
    expect(mentions).toHaveLength(1);
    // A private note never reaches the customer.
    expect(await db.withTenant(tenantId, (tx) => tx.select().from(outbox).where(eq(outbox.topic, 'ticket.agent_replied')))).toHaveLength(1);

    // Resolving hands the conversation back to the bot and asks for the customer's rating.
    await updateTicket(deps, { tenantId, userId: ada, ticketId, changes: { status: 'resolved' } });
    const [resumed] = await db.withTenant(tenantId, (tx) => tx.select().from(conversations).where(eq(conversations.id, conversationId)));
    expect(resumed).toMatchObject({ mode: 'bot', ticketId: null });
    expect(await db.withTenant(tenantId, (tx) => tx.select().from(outbox).where(eq(outbox.topic, 'ticket.resolved')))).toHaveLength(1);
    expect((await eventsOf(tenantId, ticketId)).map((event) => event.kind)).toEqual(
      expect.arrayContaining(['created', 'assigned', 'agent_replied', 'note_added', 'updated', 'resolved']),
    );
  });

  it('reopens a resolved ticket on a customer reply within the window, and opens a new one after it or once closed', async () => {
    const { tenantId, adminId, contactId, deps } = await workspace();
    const { ticketId } = await createTicket(deps, { tenantId, userId: adminId, contactId, subject: 'Lent' });
    await updateTicket(deps, { tenantId, userId: adminId, ticketId, changes: { status: 'resolved' } });
    clock.advance(3_600_000);
    const reopened = await db.withTenant(tenantId, (tx) => addCustomerMessage(tx, { tenantId, ticketId, contactId, body: 'Toujours lent', now: clock.now() }));
    expect(reopened).toMatchObject({ ticketId, reopened: true });
    expect((await ticketRow(tenantId, ticketId)).status).toBe('open');

    await updateTicket(deps, { tenantId, userId: adminId, ticketId, changes: { status: 'resolved' } });
    clock.advance(73 * 3_600_000);
    const late = await db.withTenant(tenantId, (tx) => addCustomerMessage(tx, { tenantId, ticketId, contactId, body: 'Encore moi', now: clock.now() }));
    expect(late.ticketId).not.toBe(ticketId);
    expect(late.previousTicketId).toBe(ticketId);
    expect((await ticketRow(tenantId, ticketId)).status).toBe('resolved');

    await updateTicket(deps, { tenantId, userId: adminId, ticketId: late.ticketId, changes: { status: 'closed' } });
    const afterClose = await db.withTenant(tenantId, (tx) => addCustomerMessage(tx, { tenantId, ticketId: late.ticketId, contactId, body: 'Et maintenant ?', now: clock.now() }));
    expect(afterClose.ticketId).not.toBe(late.ticketId);
    const messages = await db.withTenant(tenantId, (tx) => tx.select().from(ticketMessages).where(eq(ticketMessages.ticketId, afterClose.ticketId)));
    expect(messages.map((message) => message.body)).toEqual(['Et maintenant ?']);
    // A pending ticket is open again when the customer answers.
    await updateTicket(deps, { tenantId, userId: adminId, ticketId: afterClose.ticketId, changes: { status: 'pending' } });
    await db.withTenant(tenantId, (tx) => addCustomerMessage(tx, { tenantId, ticketId: afterClose.ticketId, contactId, body: 'Voilà', now: clock.now() }));
    expect((await ticketRow(tenantId, afterClose.ticketId)).status).toBe('open');
  });

  it('merges a duplicate into another ticket of the same contact and forwards later messages', async () => {
    const { tenantId, adminId, contactId, deps } = await workspace();
    const first = await createTicket(deps, { tenantId, userId: adminId, contactId, subject: 'Pas de WiFi', description: 'Depuis ce matin', tags: ['wifi'] });
    const duplicate = await createTicket(deps, { tenantId, userId: adminId, contactId, subject: 'WiFi en panne', description: 'Toujours rien', tags: ['panne'] });
    await mergeTickets(deps, { tenantId, userId: adminId, sourceTicketId: duplicate.ticketId, targetTicketId: first.ticketId });
    const source = await ticketRow(tenantId, duplicate.ticketId);
    expect(source).toMatchObject({ status: 'closed', mergedIntoId: first.ticketId });
    expect((await ticketRow(tenantId, first.ticketId)).tags).toEqual(['wifi', 'panne']);
    const forwarded = await db.withTenant(tenantId, (tx) => addCustomerMessage(tx, { tenantId, ticketId: duplicate.ticketId, contactId, body: 'Alors ?', now: clock.now() }));
    expect(forwarded.ticketId).toBe(first.ticketId);
    const bodies = await db.withTenant(tenantId, (tx) => tx.select({ body: ticketMessages.body }).from(ticketMessages).where(eq(ticketMessages.ticketId, first.ticketId)));
    expect(bodies.map((message) => message.body).sort()).toEqual(['Alors ?', 'Depuis ce matin', 'Toujours rien']);
    const detail = await getTicketDetail(deps, { tenantId, userId: adminId, ticketId: first.ticketId });
    expect(detail.contact.name).toBe('Awa');
    expect(detail.messages.map((message) => [message.authorKind, message.isPrivate])).toEqual([
      ['agent', true],
      ['agent', true],
      ['customer', false],
    ]);
    expect(detail.events.map((event) => event.kind)).toEqual(['created', 'merged', 'customer_replied']);
    expect((await errorOf(updateTicket(deps, { tenantId, userId: adminId, ticketId: duplicate.ticketId, changes: { priority: 'urgent' } }))).code).toBe('CONFLICT');

    const otherContact = await db.withTenant(tenantId, async (tx) => (await tx.insert(contacts).values({ tenantId, name: 'Bob' }).returning())[0]!.id);
    const bobs = await createTicket(deps, { tenantId, userId: adminId, contactId: otherContact, subject: 'Autre' });
    expect((await errorOf(mergeTickets(deps, { tenantId, userId: adminId, sourceTicketId: bobs.ticketId, targetTicketId: first.ticketId }))).code).toBe('CONFLICT');
  });

  it("stores attachments content-addressed, refuses oversized and disguised files, and serves them only to the tenant's users", async () => {
    const { tenantId, adminId, contactId, deps } = await workspace();
    const { ticketId } = await createTicket(deps, { tenantId, userId: adminId, contactId, subject: 'Photo du routeur' });
    const png = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(64, 7)]);
    const fileDeps = { ...deps, fileStore: files };
    const first = await attachFileToTicket(fileDeps, { tenantId, userId: adminId, ticketId, bytes: png, fileName: '../../routeur.png' });
    const second = await attachFileToTicket(fileDeps, { tenantId, userId: adminId, ticketId, bytes: png, fileName: 'copie.png' });
    expect(first.contentType).toBe('image/png');
    const read = await readTicketAttachment(fileDeps, { tenantId, userId: adminId, attachmentId: second.attachmentId });
    expect(read.bytes.equals(png)).toBe(true);
    expect(read.fileName).not.toContain('/');

    const disguised = Buffer.from('MZ this is a Windows program, not a photo');
    expect((await errorOf(attachFileToTicket(fileDeps, { tenantId, userId: adminId, ticketId, bytes: disguised, fileName: 'photo.jpg' }))).details).toEqual({ reason: 'type_not_allowed' });
    const huge = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff]), Buffer.alloc(10 * 1024 * 1024)]);
    expect((await errorOf(attachFileToTicket(fileDeps, { tenantId, userId: adminId, ticketId, bytes: huge }))).details).toEqual({ reason: 'too_large' });

    const other = await workspace();
    expect((await errorOf(readTicketAttachment(fileDeps, { tenantId: other.tenantId, userId: other.adminId, attachmentId: first.attachmentId }))).code).toBe('NOT_FOUND');
    expect((await errorOf(readTicketAttachment(fileDeps, { tenantId, userId: other.adminId, attachmentId: first.attachmentId }))).code).toBe('FORBIDDEN');
    const disabled = await agent(tenantId, 'Zoe');
    await db.withTenant(tenantId, (tx) => tx.update(users).set({ disabledAt: clock.now() }).where(eq(users.id, disabled)));
    expect((await errorOf(readTicketAttachment(fileDeps, { tenantId, userId: disabled, attachmentId: first.attachmentId }))).code).toBe('FORBIDDEN');
  });
});
