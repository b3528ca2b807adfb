import { and, asc, desc, eq } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAgent, createTenant, getCsatSummary, replyToTicket, setAgentAvailability, updateTicket } from '@relais/core';
import { conversations, csatResponses, ticketMessages, tickets, type Tx } from '@relais/db';
import { JOB_SCHEDULES } from '@relais/workers';
import { build } from '../../server/src/app.js';
import type { Services } from '../../server/src/services.js';
import { eventually } from '../support/relais-process.js';
import { createTestDatabase } from '../support/test-database.js';
import { createTestServices } from '../support/test-services.js';

interface WebchatMessage {
  id: string;
  seq: number;
  from: 'customer' | 'bot';
  text: string;
  choices?: { id: string; label: string }[];
}

/** What the visitor types and reads in each language. */
const LANGUAGES = {
  fr: {
    pick: 'Français',
    subject: 'Demande de conseiller',
    transcriptTitle: 'Derniers messages de la conversation :',
    handedOff: 'Un agent va vous répondre ici',
    agentReply: 'Bonjour, avez-vous redémarré le routeur ?',
    signed: 'Awa : Bonjour, avez-vous redémarré le routeur ?',
    customerText: 'Oui, et toujours rien',
    resolved: (number: number) => `Votre ticket n° ${number} est résolu`,
    askComment: 'Un commentaire ?',
    comment: 'Rapide et aimable',
    thanks: 'Merci pour votre avis !',
  },
  en: {
    pick: 'English',
    subject: 'Agent requested',
    transcriptTitle: 'Last messages of the conversation:',
    handedOff: 'An agent will answer you here',
    agentReply: 'Hello, did you restart the router?',
    signed: 'Awa: Hello, did you restart the router?',
    customerText: 'Yes, and still nothing',
    resolved: (number: number) => `Your ticket #${number} is resolved`,
    askComment: 'Any comment?',
    comment: 'Quick and kind',
    thanks: 'Thank you for your feedback!',
  },
} as const;

// Issue 5 ("talk to an agent", "rate us") and issue 6 (hand-off, replies, resolution, CSAT) as a
// web chat visitor lives them: the real server's web chat routes, the engine, the helpdesk use
// cases an agent's screen calls, and the outbox jobs every second carrying replies and the survey.
describe('web chat: talk to an agent, get answers, rate the help', () => {
  let services: Services;
  let app: FastifyInstance;
  let tenantId: string;
  let slug: string;
  let agentId: string;
  let visitor = 0;
  const startedAt = new Date();

  beforeAll(async () => {
    services = await createTestServices(await createTestDatabase());
    app = await build(services, { adminWebBuildDirectory: false });
    const dispatch = JOB_SCHEDULES.find((schedule) => schedule.scheduleId === 'outbox-dispatch')!;
    await services.jobs.schedule(dispatch.name, '* * * * * *', { scheduleId: dispatch.scheduleId });
    const created = await createTenant({ db: services.db, clock: services.clock }, { name: 'Wifi Zone Bonapriso', email: 'csat-bonapriso@example.cm', mode: 'commission' });
    tenantId = created.tenant.id;
    slug = created.tenant.slug;
    agentId = (await createAgent(services, { tenantId, email: 'awa@example.cm', name: 'Awa Ngono' })).userId;
    await setAgentAvailability(services, { tenantId, userId: agentId, availability: 'available' });
  });
  afterAll(async () => {
    await app?.close();
    await services?.close();
  });

  function newVisitor() {
    visitor += 1;
    const contactId = `csat-visitor-${visitor}-${'y'.repeat(12)}`;
    let cursor = 0;
    let sentCount = 0;
    const say = async (text: string) => {
      sentCount += 1;
      const response = await app.inject({ method: 'POST', url: `/api/webchat/${slug}/messages`, payload: { contactId, text, messageId: `c${sentCount}-${visitor}-abcdef` } });
      expect(response.statusCode).toBe(200);
      return response.json() as { duplicate: boolean; replies: WebchatMessage[] };
    };
    const read = async (): Promise<WebchatMessage[]> => {
      const response = await app.inject({ method: 'GET', url: `/api/webchat/${slug}/messages?contactId=${contactId}&after=${cursor}` });
      expect(response.statusCode).toBe(200);
      const page = response.json() as { messages: WebchatMessage[]; cursor: number };
      cursor = page.cursor;
      return page.messages.filter((message) => message.from === 'bot');
    };
    /** Polls until a bot message matching `test` appears (the outbox works every second). */
    const waitFor = (what: string, test: (message: WebchatMessage) => boolean) => eventually(async () => (await read()).find(test), 30_000, what);
    return { say, read, waitFor };
  }

  const inTenant = <T>(work: (tx: Tx) => Promise<T>) => services.db.withTenant(tenantId, (tx) => work(tx));

  it.each(['fr', 'en'] as const)('in %s: agent, reply, customer text on the ticket, resolution, rating 4, comment, averages', async (language) => {
    const words = LANGUAGES[language];
    const chat = newVisitor();
    await chat.say('bonjour');
    await chat.say(words.pick);
    const handedOff = await chat.say('agent');
    expect(handedOff.replies.map((reply) => reply.text)).toEqual([expect.stringContaining(words.handedOff)]);

    const [ticket] = await inTenant((tx) => tx.select().from(tickets).where(eq(tickets.tenantId, tenantId)).orderBy(desc(tickets.number)).limit(1));
    expect(ticket).toMatchObject({ subject: words.subject, status: 'open', assigneeId: agentId });
    const [transcript] = await inTenant((tx) =>
      tx.select().from(ticketMessages).where(and(eq(ticketMessages.tenantId, tenantId), eq(ticketMessages.ticketId, ticket!.id))),
    );
    expect(transcript!.body.startsWith(`${words.transcriptTitle}\n`)).toBe(true);
    expect(transcript!.body).toContain(words.pick);
    expect(transcript!.body.endsWith('agent')).toBe(true);

    // The agent answers from the helpdesk: the reply reaches the chat through the outbox.
    await replyToTicket(services, { tenantId, userId: agentId, ticketId: ticket!.id, body: words.agentReply });
    await chat.waitFor("the agent's reply", (message) => message.text === words.signed);

    // The customer writes back: it lands on the ticket, and the paused bot says nothing.
    const written = await chat.say(words.customerText);
    expect(written.replies).toEqual([]);
    const onTicket = await inTenant((tx) =>
      tx.select().from(ticketMessages).where(and(eq(ticketMessages.tenantId, tenantId), eq(ticketMessages.ticketId, ticket!.id))).orderBy(asc(ticketMessages.createdAt)),
    );
    expect(onTicket.at(-1)).toMatchObject({ authorKind: 'customer', body: words.customerText });

    // Resolved: the bot is back and asks for a rating, with buttons.
    await updateTicket(services, { tenantId, userId: agentId, ticketId: ticket!.id, changes: { status: 'resolved' } });
    const asked = await chat.waitFor('the rating question', (message) => message.text.startsWith(words.resolved(ticket!.number)));
    expect(asked.choices!.map((choice) => choice.id)).toEqual(['csat:1', 'csat:2', 'csat:3', 'csat:4', 'csat:5']);
    expect(asked.choices![3]!.label).toBe('4 ⭐⭐⭐⭐');
    const [conversation] = await inTenant((tx) =>
      tx.select().from(conversations).where(and(eq(conversations.tenantId, tenantId), eq(conversations.id, ticket!.conversationId!))),
    );
    expect(conversation).toMatchObject({ mode: 'bot', ticketId: null });

    const rated = await chat.say('4');
    expect(rated.replies.map((reply) => reply.text)).toEqual([expect.stringContaining(words.askComment)]);
    const responseOf = async () =>
      (
        await inTenant((tx) =>
          tx.select().from(csatResponses).where(and(eq(csatResponses.tenantId, tenantId), eq(csatResponses.ticketId, ticket!.id))),
        )
      )[0];
    expect(await responseOf()).toMatchObject({ rating: 4, agentId, comment: null });

    const thanked = await chat.say(words.comment);
    expect(thanked.replies[0]!.text.startsWith(words.thanks)).toBe(true);
    expect(thanked.replies[0]!.choices!.length).toBeGreaterThan(0); // the menu again
    expect(await responseOf()).toMatchObject({ rating: 4, agentId, comment: words.comment });

    const summary = await getCsatSummary(services, { tenantId, from: startedAt, to: new Date(Date.now() + 60_000) });
    const answers = language === 'fr' ? 1 : 2;
    expect(summary.tenant).toEqual({ average: 4, count: answers, distribution: { 1: 0, 2: 0, 3: 0, 4: answers, 5: 0 } });
    expect(summary.agents).toEqual([{ agentId, name: 'Awa Ngono', average: 4, count: answers }]);
  });
});
