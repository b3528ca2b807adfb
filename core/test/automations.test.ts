import { createHmac, randomBytes } from 'node:crypto';
import { and, asc, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AUTOMATION_WEBHOOK_TOPIC,
  createAgent,
  createAutomation,
  createCannedResponse,
  createSecretBox,
  createTeam,
  createTenant,
  createTicket,
  deleteAutomation,
  deliverAutomationWebhook,
  dispatchOutbox,
  listAutomations,
  MAX_AUTOMATION_CHAIN,
  runTicketAutomations,
  TICKET_EVENT_TOPIC,
  updateAutomation,
  updateTicket,
  type CreateAutomationInput,
  type OutboxConsumer,
} from '@relais/core';
import { automationRuns, automations, contacts, notifications, outbox, ticketEvents, ticketMessages, tickets, users, type Database, type Tx } from '@relais/db';
import { errorOf } from '../../tests/support/app-error-of.js';
import { steppedClock } from '../../tests/support/stepped-clock.js';
import { createTestDatabase, testDrivers, type TestDatabase } from '../../tests/support/test-database.js';
import { startWebhookReceiver, type WebhookReceiver } from '../../tests/support/webhook-receiver.js';

const FIFTEEN_MINUTES_MS = 15 * 60_000;

describe.each(testDrivers())('automations on %s', (driver) => {
  let test: TestDatabase;
  let db: Database;
  let receiver: WebhookReceiver;
  let counter = 0;
  const clock = steppedClock();
  const secrets = createSecretBox(randomBytes(32));
  // The receiver listens on 127.0.0.1: private networks are allowed here, refused in the tests that say so.
  const deps = () => ({ db, clock, secrets, webhookTimeoutMs: 500, allowPrivateNetworks: true });

  beforeAll(async () => {
    test = await createTestDatabase(driver);
    db = test.db;
    receiver = await startWebhookReceiver();
  });
  afterAll(async () => {
    await receiver?.close();
    await test?.drop();
  });

  /** A tenant of its own (its own outbox), an admin, an agent, a team and an English-speaking contact. */
  async function newDesk() {
    counter += 1;
    const { tenant, admin } = await createTenant({ db, clock }, { name: `Desk ${counter}`, email: `desk-${driver}-${counter}@example.cm`, plan: 'business' });
    const tenantId = tenant.id;
    const agentId = (await createAgent({ db, clock }, { tenantId, email: `agent-${counter}@example.cm`, name: 'Paul Mbarga' })).userId;
    const teamId = (await createTeam({ db, clock }, { tenantId, name: 'Niveau 2' })).teamId;
    const contactId = await db.withTenant(tenantId, async (tx) => {
      const [row] = await tx.insert(contacts).values({ tenantId, name: 'John', phoneE164: '+237670000001', locale: 'en' }).returning({ id: contacts.id });
      return row!.id;
    });
    const automate = async (input: Omit<CreateAutomationInput, 'tenantId'>) => (await createAutomation(deps(), { tenantId, ...input })).automation.id;
    const open = (subject = 'My WiFi code does not work') => createTicket({ db, clock }, { tenantId, userId: admin.id, contactId, subject });
    return { tenantId, adminId: admin.id, agentId, teamId, contactId, automate, open };
  }

  const consumers: Record<string, OutboxConsumer> = {
    [TICKET_EVENT_TOPIC]: async (delivery) => {
      await runTicketAutomations(deps(), { tenantId: delivery.tenantId, eventId: String(delivery.payload.eventId) });
    },
    [AUTOMATION_WEBHOOK_TOPIC]: async (delivery) => {
      const payload = delivery.payload as { automationId: string; eventId: string; actionIndex: number };
      await deliverAutomationWebhook(deps(), { tenantId: delivery.tenantId, ...payload });
    },
  };

  /** Dispatches the tenant's outbox until nothing is left to deliver now (bounded: a loop would fail the test). */
  async function drain(tenantId: string): Promise<{ delivered: number; retried: number }> {
    const total = { delivered: 0, retried: 0 };
    for (let round = 0; round < 50; round += 1) {
      const report = await dispatchOutbox({ db, clock, consumers }, { tenantId });
      total.delivered += report.delivered;
      total.retried += report.retried;
      if (report.delivered + report.retried + report.dead === 0) return total;
    }
    throw new Error('the outbox never emptied: automations loop');
  }

  const read = <T>(tenantId: string, work: (tx: Tx) => Promise<T>) => db.withTenant(tenantId, work);
  const ticketOf = (tenantId: string, ticketId: string) => read(tenantId, async (tx) => (await tx.select().from(tickets).where(eq(tickets.id, ticketId)))[0]!);
  const runsOf = (tenantId: string) =>
    read(tenantId, (tx) => tx.select().from(automationRuns).orderBy(asc(automationRuns.createdAt), asc(automationRuns.id)));
  const eventsOf = (tenantId: string, kind: string) =>
    read(tenantId, (tx) => tx.select().from(ticketEvents).where(eq(ticketEvents.kind, kind)).orderBy(asc(ticketEvents.createdAt)));

  describe('saving', () => {
    it('refuses an invalid rule when it is saved, with a message naming what is wrong, and saves nothing', async () => {
      const desk = await newDesk();
      const other = await newDesk();
      const unknownId = '00000000-0000-4000-8000-000000000000';
      const refusals: [Omit<CreateAutomationInput, 'tenantId'>, string][] = [
        [{ name: 'x', event: 'deleted' as 'created', actions: [{ type: 'escalate' }] }, 'event: event must be one of created, updated, customer_replied, sla_warning, sla_breached, payment_received'],
        [
          { name: 'x', event: 'created', conditions: [{ field: 'ticket.priority', operator: 'equals', value: 'critical' }], actions: [{ type: 'escalate' }] },
          'conditions.0.value: priority must be one of low, medium, high, urgent',
        ],
        [{ name: 'x', event: 'created', actions: [] }, 'actions: an automation needs at least one action'],
        [{ name: 'x', event: 'created', actions: [{ type: 'assign_agent', userId: unknownId }] }, `actions.0.userId: no active agent of this workspace has the id ${unknownId}`],
        // Another tenant's team is invisible here: as unknown as a made-up id.
        [{ name: 'x', event: 'created', actions: [{ type: 'add_tag', tag: 'a' }, { type: 'assign_team', teamId: other.teamId }] }, 'actions.1.teamId: no team of this workspace has the id'],
        [{ name: 'x', event: 'created', actions: [{ type: 'send_canned', cannedResponseId: unknownId }] }, 'actions.0.cannedResponseId: no canned response of this workspace'],
        [{ name: 'x', event: 'created', actions: [{ type: 'notify', to: [desk.agentId, other.agentId], message: { fr: 'a', en: 'b' } }] }, 'actions.0.to: no active user of this workspace'],
        [
          { name: 'x', event: 'created', conditions: [{ field: 'ticket.team_id', operator: 'in', value: [desk.teamId, unknownId] }], actions: [{ type: 'escalate' }] },
          'conditions.0.value: no team of this workspace',
        ],
      ];
      for (const [input, message] of refusals) {
        const error = await errorOf(desk.automate(input));
        expect(error.code).toBe('VALIDATION_FAILED');
        expect(error.message).toContain(message);
      }
      expect(await listAutomations({ db }, { tenantId: desk.tenantId })).toEqual([]);
      // Ids are ids whatever their case.
      await desk.automate({ name: 'Majuscules', event: 'created', active: false, actions: [{ type: 'assign_agent', userId: desk.agentId.toUpperCase() }] });

      const id = await desk.automate({ name: 'Valide', event: 'created', position: 0, actions: [{ type: 'escalate' }] });
      const refused = await errorOf(
        updateAutomation(deps(), { tenantId: desk.tenantId, automationId: id, conditions: [{ field: 'ticket.tags', operator: 'equals', value: 'vip' }] }),
      );
      expect(refused.message).toBe('conditions.0.operator: ticket.tags cannot be compared with "equals" (use includes, excludes, is_set, is_not_set)');
      expect((await listAutomations({ db }, { tenantId: desk.tenantId })).find((a) => a.id === id)).toMatchObject({ id, name: 'Valide', conditions: [], actions: [{ type: 'escalate' }], position: 0 });
    });
  });

  describe('running', () => {
    it('applies the actions of matching rules (all / any) on the event kind they name, and records not_matched otherwise', async () => {
      const desk = await newDesk();
      const triage = await desk.automate({
        name: 'Triage WiFi',
        event: 'created',
        match: 'all',
        conditions: [
          { field: 'ticket.subject', operator: 'contains', value: 'wifi' },
          { field: 'contact.locale', operator: 'equals', value: 'en' },
          { field: 'ticket.priority', operator: 'in', value: ['low', 'medium'] },
        ],
        actions: [
          { type: 'set_priority', priority: 'high' },
          { type: 'add_tag', tag: 'WiFi' },
          { type: 'assign_team', teamId: desk.teamId },
          { type: 'notify', to: 'admins', message: { fr: 'Un ticket WiFi est arrivé', en: 'A WiFi ticket came in' } },
        ],
      });
      const never = await desk.automate({
        name: 'Jamais',
        event: 'created',
        match: 'any',
        conditions: [
          { field: 'ticket.channel', operator: 'equals', value: 'telegram' },
          { field: 'contact.name', operator: 'equals', value: 'Nobody' },
        ],
        actions: [{ type: 'add_tag', tag: 'never' }],
      });
      const onUpdate = await desk.automate({ name: 'Sur modification', event: 'updated', conditions: [{ field: 'ticket.tags', operator: 'includes', value: 'vip' }], actions: [{ type: 'escalate' }] });
      const { ticketId } = await desk.open();
      await drain(desk.tenantId);

      const ticket = await ticketOf(desk.tenantId, ticketId);
      expect(ticket).toMatchObject({ priority: 'high', tags: ['wifi'], teamId: desk.teamId });
      const runs = await runsOf(desk.tenantId);
      const created = (await eventsOf(desk.tenantId, 'created'))[0]!;
      expect(runs.filter((run) => run.ticketEventId === created.id).map((run) => [run.automationId, run.status])).toEqual([
        [triage, 'applied'],
        [never, 'not_matched'],
      ]);
      expect(runs.find((run) => run.automationId === triage)!.results).toEqual([
        { type: 'set_priority', changed: ['priority'] },
        { type: 'add_tag', changed: ['tags'] },
        { type: 'assign_team', changed: ['teamId'] },
        { type: 'notify', notified: 1 },
      ]);
      // The automation's own changes are `updated` events that carry it in their chain.
      const updates = await eventsOf(desk.tenantId, 'updated');
      expect(updates.length).toBeGreaterThanOrEqual(1);
      expect(updates.every((event) => event.actorKind === 'automation' && event.actorId === triage && (event.data as { causedBy: string[] }).causedBy.join() === triage)).toBe(true);
      expect(runs.filter((run) => run.automationId === onUpdate).every((run) => run.status === 'not_matched')).toBe(true);
      const [notice] = await read(desk.tenantId, (tx) => tx.select().from(notifications).where(and(eq(notifications.userId, desk.adminId), eq(notifications.kind, 'automation.notify'))));
      expect(notice!.payload).toMatchObject({ body: { fr: 'Un ticket WiFi est arrivé', en: 'A WiFi ticket came in' }, ticketId });
    });

    it('evaluates in position order: a rule sees what the rules before it did to the ticket', async () => {
      const desk = await newDesk();
      // Saved in the opposite order to their positions.
      const seen = await desk.automate({ name: 'Vu urgent', event: 'created', position: 2, conditions: [{ field: 'ticket.priority', operator: 'equals', value: 'urgent' }], actions: [{ type: 'add_tag', tag: 'urgent-seen' }] });
      const urgent = await desk.automate({ name: 'Urgent', event: 'created', position: 1, actions: [{ type: 'set_priority', priority: 'urgent' }] });
      expect((await listAutomations({ db }, { tenantId: desk.tenantId })).map((a) => a.id)).toEqual([urgent, seen]);
      const { ticketId } = await desk.open();
      await drain(desk.tenantId);
      expect(await ticketOf(desk.tenantId, ticketId)).toMatchObject({ priority: 'urgent', tags: ['urgent-seen'] });
      expect((await runsOf(desk.tenantId)).filter((run) => run.status === 'applied').map((run) => run.automationId)).toEqual([urgent, seen]);
    });

    it('replies with a canned response in the customer language, escalates and notifies the assignee', async () => {
      const desk = await newDesk();
      const canned = await createCannedResponse(
        { db, clock },
        { tenantId: desk.tenantId, shortcut: 'accuse', title: 'Accusé', bodyFr: 'Bonjour {{customer.name}}, ticket n° {{ticket.number}} reçu.', bodyEn: 'Hello {{customer.name}}, ticket #{{ticket.number}} received, {{agent.name}} is on it.' },
      );
      await desk.automate({
        name: 'Accueil',
        event: 'created',
        actions: [
          { type: 'assign_agent', userId: desk.agentId },
          { type: 'send_canned', cannedResponseId: canned.id },
          { type: 'escalate' },
          { type: 'notify', to: 'assignee', message: { fr: 'Ticket pour vous', en: 'Ticket for you' } },
        ],
      });
      const { ticketId, ticketNumber } = await desk.open();
      await drain(desk.tenantId);
      const ticket = await ticketOf(desk.tenantId, ticketId);
      expect(ticket).toMatchObject({ assigneeId: desk.agentId, priority: 'high' });
      const messages = await read(desk.tenantId, (tx) => tx.select().from(ticketMessages).where(eq(ticketMessages.ticketId, ticketId)));
      expect(messages.map((m) => [m.authorKind, m.isPrivate, m.body])).toContainEqual(['bot', false, `Hello John, ticket #${ticketNumber} received, Paul Mbarga is on it.`]);
      const notices = await read(desk.tenantId, (tx) => tx.select().from(notifications).where(eq(notifications.kind, 'automation.notify')));
      expect(notices.map((n) => n.userId).sort()).toEqual([desk.adminId, desk.agentId].sort());
      expect(notices.find((n) => n.userId === desk.adminId)!.payload).toMatchObject({ title: { en: `Ticket #${ticketNumber} escalated` } });
    });

    it('records a failed run, with no partial effect, when an action is refused; later rules still run', async () => {
      const desk = await newDesk();
      const failing = await desk.automate({ name: 'Vers Paul', event: 'created', actions: [{ type: 'add_tag', tag: 'before-failure' }, { type: 'assign_agent', userId: desk.agentId }] });
      const after = await desk.automate({ name: 'Ensuite', event: 'created', actions: [{ type: 'add_tag', tag: 'after' }] });
      // Paul leaves after the rule was saved: it is valid, but cannot be applied any more.
      await read(desk.tenantId, (tx) => tx.update(users).set({ disabledAt: clock.now() }).where(eq(users.id, desk.agentId)));
      const { ticketId } = await desk.open();
      await drain(desk.tenantId);
      const ticket = await ticketOf(desk.tenantId, ticketId);
      expect(ticket.tags).toEqual(['after']);
      expect(ticket.assigneeId).toBeNull();
      const runs = await runsOf(desk.tenantId);
      expect(runs.find((run) => run.automationId === failing)).toMatchObject({ status: 'failed', error: 'assignee: no active user of this workspace has this id', results: [] });
      expect(runs.find((run) => run.automationId === after && run.status === 'applied')).toBeDefined();
    });

    it('AUTOMATION LOOP GUARD: two rules undoing each other stop, with skipped_loop runs and a bounded number of events', async () => {
      const desk = await newDesk();
      const high = await desk.automate({ name: 'Haute', event: 'updated', actions: [{ type: 'set_priority', priority: 'high' }] });
      const low = await desk.automate({ name: 'Basse', event: 'updated', actions: [{ type: 'set_priority', priority: 'low' }] });
      const { ticketId } = await desk.open();
      await drain(desk.tenantId);
      await updateTicket({ db, clock }, { tenantId: desk.tenantId, userId: desk.adminId, ticketId, changes: { addTags: ['x'] } });
      await drain(desk.tenantId);

      const updates = await eventsOf(desk.tenantId, 'updated');
      // The agent's change, then at most one per automation per chain position.
      expect(updates.length).toBeGreaterThan(1);
      expect(updates.length).toBeLessThanOrEqual(1 + 2 * MAX_AUTOMATION_CHAIN);
      const runs = await runsOf(desk.tenantId);
      expect(runs.filter((run) => run.status === 'skipped_loop').length).toBeGreaterThanOrEqual(2);
      // Each automation ran at most once per event, and never on an event it had caused.
      for (const event of updates) {
        const chain = ((event.data as { causedBy?: string[] }).causedBy ?? []);
        const onEvent = runs.filter((run) => run.ticketEventId === event.id);
        expect(onEvent.map((run) => run.automationId).sort()).toEqual([high, low].sort());
        for (const run of onEvent) expect(run.status === 'skipped_loop').toBe(chain.includes(run.automationId) || chain.length >= MAX_AUTOMATION_CHAIN);
      }
      const pending = await read(desk.tenantId, (tx) => tx.select().from(outbox).where(and(eq(outbox.topic, TICKET_EVENT_TOPIC), eq(outbox.status, 'pending'))));
      expect(pending).toEqual([]);
    });

    it(`AUTOMATION LOOP GUARD: a chain of automations stops at ${MAX_AUTOMATION_CHAIN}`, async () => {
      const desk = await newDesk();
      // step k adds tag k once k-1 is there; positions reversed, so each step waits for the next event.
      const steps = MAX_AUTOMATION_CHAIN + 1;
      const ids: string[] = [];
      for (let k = steps; k >= 1; k -= 1) {
        ids.push(
          await desk.automate({
            name: `Étape ${k}`,
            event: 'updated',
            position: steps - k,
            conditions: [
              ...(k > 1 ? [{ field: 'ticket.tags' as const, operator: 'includes' as const, value: `step${k - 1}` }] : []),
              { field: 'ticket.tags', operator: 'excludes', value: `step${k}` },
            ],
            actions: [{ type: 'add_tag', tag: `step${k}` }],
          }),
        );
      }
      const { ticketId } = await desk.open();
      await updateTicket({ db, clock }, { tenantId: desk.tenantId, userId: desk.adminId, ticketId, changes: { priority: 'low' } });
      await drain(desk.tenantId);
      const ticket = await ticketOf(desk.tenantId, ticketId);
      expect(ticket.tags).toEqual(Array.from({ length: MAX_AUTOMATION_CHAIN }, (_, i) => `step${i + 1}`));
      const lastStep = ids[0]!;
      const skipped = (await runsOf(desk.tenantId)).filter((run) => run.automationId === lastStep && run.status === 'skipped_loop');
      expect(skipped).toHaveLength(1);
      expect((skipped[0]!.results as { causedBy: string[] }).causedBy).toHaveLength(MAX_AUTOMATION_CHAIN);
    });

    it('AUTOMATION LOOP GUARD: a rule triggered by its own change runs once', async () => {
      const desk = await newDesk();
      const tagger = await desk.automate({ name: 'Étiquette', event: 'updated', actions: [{ type: 'add_tag', tag: 'touched' }, { type: 'set_status', status: 'pending' }] });
      const { ticketId } = await desk.open();
      await updateTicket({ db, clock }, { tenantId: desk.tenantId, userId: desk.adminId, ticketId, changes: { priority: 'urgent' } });
      await drain(desk.tenantId);
      const runs = (await runsOf(desk.tenantId)).filter((run) => run.automationId === tagger);
      expect(runs.filter((run) => run.status === 'applied')).toHaveLength(1);
      // Its two changes were two `updated` events: it was kept off both.
      const caused = (await eventsOf(desk.tenantId, 'updated')).filter((event) => event.actorId === tagger);
      expect(caused).toHaveLength(2);
      expect(runs.filter((run) => run.status === 'skipped_loop').map((run) => run.ticketEventId).sort()).toEqual(caused.map((event) => event.id).sort());
      expect(await ticketOf(desk.tenantId, ticketId)).toMatchObject({ tags: ['touched'], status: 'pending' });
    });

    it('runs an automation once per event, however often and however concurrently the event is delivered', async () => {
      const desk = await newDesk();
      const notify = await desk.automate({ name: 'Prévenir', event: 'created', actions: [{ type: 'notify', to: 'admins', message: { fr: 'Nouveau', en: 'New' } }] });
      await desk.open();
      const [created] = await eventsOf(desk.tenantId, 'created');
      const deliveries = await Promise.all(Array.from({ length: 4 }, () => runTicketAutomations(deps(), { tenantId: desk.tenantId, eventId: created!.id })));
      expect(deliveries.flat().map((outcome) => outcome.status).sort()).toEqual(['already_ran', 'already_ran', 'already_ran', 'applied']);
      expect(await runTicketAutomations(deps(), { tenantId: desk.tenantId, eventId: created!.id })).toEqual([{ automationId: notify, status: 'already_ran' }]);
      await drain(desk.tenantId);
      expect(await runsOf(desk.tenantId)).toHaveLength(1);
      const notices = await read(desk.tenantId, (tx) => tx.select().from(notifications).where(eq(notifications.kind, 'automation.notify')));
      expect(notices).toHaveLength(1);
    });

    it('ignores inactive automations and events automations do not react to', async () => {
      const desk = await newDesk();
      const id = await desk.automate({ name: 'Éteinte', event: 'created', active: false, actions: [{ type: 'add_tag', tag: 'off' }] });
      await desk.automate({ name: 'Réponse', event: 'updated', actions: [{ type: 'add_tag', tag: 'on' }] });
      const { ticketId } = await desk.open();
      await drain(desk.tenantId);
      expect((await ticketOf(desk.tenantId, ticketId)).tags).toEqual([]);
      const [assigned] = await read(desk.tenantId, (tx) => tx.select().from(ticketEvents).where(eq(ticketEvents.kind, 'created')));
      expect(await runsOf(desk.tenantId)).toEqual([]);
      await updateAutomation(deps(), { tenantId: desk.tenantId, automationId: id, active: true });
      expect((await runTicketAutomations(deps(), { tenantId: desk.tenantId, eventId: assigned!.id })).map((o) => o.status)).toEqual(['applied']);
    });
  });

  describe('webhooks', () => {
    async function webhookDesk() {
      const desk = await newDesk();
      const saved = await createAutomation(deps(), { tenantId: desk.tenantId, name: 'Vers le CRM', event: 'created', actions: [{ type: 'add_tag', tag: 'crm' }, { type: 'webhook', url: receiver.url }] });
      return { ...desk, automationId: saved.automation.id, secret: saved.webhookSecret! };
    }
    const expectedSignature = (secret: string, rawBody: string) => `sha256=${createHmac('sha256', secret).update(rawBody).digest('hex')}`;
    const runOf = async (tenantId: string, automationId: string) => (await runsOf(tenantId)).find((run) => run.automationId === automationId)!;

    it('POSTs a signed summary; the signature verifies with the secret shown once, stored only sealed', async () => {
      const desk = await webhookDesk();
      expect(desk.secret).toMatch(/^whsec_[A-Za-z0-9_-]{43}$/);
      const [stored] = await read(desk.tenantId, (tx) => tx.select().from(automations).where(eq(automations.id, desk.automationId)));
      expect(stored!.webhookSecretEnc).not.toContain(desk.secret);
      expect(secrets.open(stored!.webhookSecretEnc!, desk.tenantId)).toBe(desk.secret);
      expect((await listAutomations({ db }, { tenantId: desk.tenantId }))[0]).toMatchObject({ hasWebhookSecret: true });
      expect(JSON.stringify(await listAutomations({ db }, { tenantId: desk.tenantId }))).not.toContain(desk.secret);

      receiver.respondWith(200);
      const before = receiver.received.length;
      const { ticketId, ticketNumber } = await desk.open();
      await drain(desk.tenantId);
      const [call] = receiver.received.slice(before);
      expect(receiver.received.length - before).toBe(1);
      expect(call).toMatchObject({ method: 'POST', path: '/hooks/relais' });
      expect(call!.headers['content-type']).toBe('application/json');
      expect(call!.headers['x-relais-signature']).toBe(expectedSignature(desk.secret, call!.rawBody));
      const body = JSON.parse(call!.rawBody);
      expect(call!.headers['x-relais-timestamp']).toBe(String(body.timestamp));
      expect(body).toMatchObject({
        event: { kind: 'created' },
        ticket: { id: ticketId, number: ticketNumber, subject: 'My WiFi code does not work', tags: ['crm'] },
        automation: { id: desk.automationId, name: 'Vers le CRM' },
      });
      expect((await runOf(desk.tenantId, desk.automationId)).results).toEqual([
        { type: 'add_tag', changed: ['tags'] },
        { type: 'webhook', delivery: 'delivered', httpStatus: 200, at: expect.any(String) },
      ]);
      // The outbox carried ids only.
      const [message] = await read(desk.tenantId, (tx) => tx.select().from(outbox).where(eq(outbox.topic, AUTOMATION_WEBHOOK_TOPIC)));
      expect(Object.keys(message!.payload as object).sort()).toEqual(['actionIndex', 'automationId', 'eventId']);
    });

    it('retries on 5xx, 429 and silence (backoff), gives up on other 4xx, and never lets the secret out', async () => {
      const desk = await webhookDesk();
      receiver.respondWith(503, 429, 'hang', 200);
      const before = receiver.received.length;
      await desk.open();
      for (let attempt = 1; attempt <= 3; attempt += 1) {
        expect((await drain(desk.tenantId)).retried).toBe(1);
        expect((await runOf(desk.tenantId, desk.automationId)).results).toContainEqual(expect.objectContaining({ type: 'webhook', delivery: 'retrying' }));
        clock.advance(FIFTEEN_MINUTES_MS);
      }
      expect((await drain(desk.tenantId)).delivered).toBe(1);
      expect(receiver.received.length - before).toBe(4);
      const results = (await runOf(desk.tenantId, desk.automationId)).results as Record<string, unknown>[];
      expect(results[1]).toEqual({ type: 'webhook', delivery: 'delivered', httpStatus: 200, at: expect.any(String) });
      const [message] = await read(desk.tenantId, (tx) => tx.select().from(outbox).where(eq(outbox.topic, AUTOMATION_WEBHOOK_TOPIC)));
      expect(message).toMatchObject({ status: 'sent', attempts: 4 });

      receiver.respondWith(410);
      const { ticketId } = await desk.open('Paiement');
      await drain(desk.tenantId);
      const [gone] = await read(desk.tenantId, (tx) =>
        tx.select().from(automationRuns).innerJoin(ticketEvents, eq(ticketEvents.id, automationRuns.ticketEventId)).where(eq(ticketEvents.ticketId, ticketId)),
      );
      expect((gone!.automation_runs.results as Record<string, unknown>[])[1]).toMatchObject({ delivery: 'gave_up', httpStatus: 410 });
      const everything = JSON.stringify(await read(desk.tenantId, async (tx) => [await tx.select().from(outbox), await tx.select().from(automationRuns)]));
      expect(everything).not.toContain(desk.secret);
      receiver.respondWith(200);
    });

    it('refuses URLs of this server or a private network when saved, and never calls them, unless private networks are allowed', async () => {
      const desk = await newDesk();
      const publicOnly = { db, clock, secrets, webhookTimeoutMs: 500 };
      for (const url of ['http://localhost:8080/hook', 'http://127.0.0.1:6379/', 'http://169.254.169.254/latest/meta-data', 'http://10.0.0.5/hook']) {
        const refusal = await errorOf(createAutomation(publicOnly, { tenantId: desk.tenantId, name: 'Interne', event: 'created', actions: [{ type: 'webhook', url }] }));
        expect(refusal.code, url).toBe('VALIDATION_FAILED');
        expect(refusal.message).toBe('actions.0.url: the address must be on the public internet (not this server or a private network)');
      }
      expect(await runsOf(desk.tenantId)).toEqual([]);

      // Saved where it was allowed, called where it is not: refused for good, nothing sent.
      const saved = await createAutomation(deps(), { tenantId: desk.tenantId, name: 'Interne', event: 'created', actions: [{ type: 'webhook', url: receiver.url }] });
      await expect(errorOf(updateAutomation(publicOnly, { tenantId: desk.tenantId, automationId: saved.automation.id, actions: [{ type: 'webhook', url: 'http://192.168.1.1/' }] }))).resolves.toMatchObject({
        code: 'VALIDATION_FAILED',
      });
      await desk.open();
      await dispatchOutbox({ db, clock, consumers }, { tenantId: desk.tenantId }); // runs the automation, queues the call
      const before = receiver.received.length;
      const [queued] = await read(desk.tenantId, (tx) => tx.select().from(outbox).where(eq(outbox.topic, AUTOMATION_WEBHOOK_TOPIC)));
      const payload = queued!.payload as { automationId: string; eventId: string; actionIndex: number };
      expect(await deliverAutomationWebhook(publicOnly, { tenantId: desk.tenantId, ...payload })).toEqual({ status: 'refused', reason: 'the address is not on the public internet' });
      expect(receiver.received.length).toBe(before);
      expect((await runOf(desk.tenantId, saved.automation.id)).results).toEqual([{ type: 'webhook', delivery: 'refused', error: 'the address is not on the public internet', at: expect.any(String) }]);
    });

    it('signs with the new secret once it is rotated; the old one no longer verifies', async () => {
      const desk = await webhookDesk();
      const rotated = await updateAutomation(deps(), { tenantId: desk.tenantId, automationId: desk.automationId, rotateWebhookSecret: true });
      expect(rotated.webhookSecret).toBeDefined();
      expect(rotated.webhookSecret).not.toBe(desk.secret);
      expect((await updateAutomation(deps(), { tenantId: desk.tenantId, automationId: desk.automationId, name: 'CRM' })).webhookSecret).toBeUndefined();
      receiver.respondWith(200);
      const before = receiver.received.length;
      await desk.open();
      await drain(desk.tenantId);
      const [call] = receiver.received.slice(before);
      expect(call!.headers['x-relais-signature']).toBe(expectedSignature(rotated.webhookSecret!, call!.rawBody));
      expect(call!.headers['x-relais-signature']).not.toBe(expectedSignature(desk.secret, call!.rawBody));
    });

    it('drops the call when the automation was deleted or its webhook removed since', async () => {
      const desk = await webhookDesk();
      receiver.respondWith(200);
      const before = receiver.received.length;
      await desk.open();
      // Evaluate only (the webhook is queued), then remove the webhook action before the call is made.
      const [created] = await eventsOf(desk.tenantId, 'created');
      await runTicketAutomations(deps(), { tenantId: desk.tenantId, eventId: created!.id });
      await updateAutomation(deps(), { tenantId: desk.tenantId, automationId: desk.automationId, actions: [{ type: 'add_tag', tag: 'crm' }] });
      await drain(desk.tenantId);
      expect(receiver.received.length - before).toBe(0);
      expect(await deliverAutomationWebhook(deps(), { tenantId: desk.tenantId, automationId: desk.automationId, eventId: created!.id, actionIndex: 1 })).toEqual({ status: 'dropped' });
      await deleteAutomation({ db }, { tenantId: desk.tenantId, automationId: desk.automationId });
      expect(await deliverAutomationWebhook(deps(), { tenantId: desk.tenantId, automationId: desk.automationId, eventId: created!.id, actionIndex: 1 })).toEqual({ status: 'dropped' });
      expect(receiver.received.length - before).toBe(0);
    });
  });
});
