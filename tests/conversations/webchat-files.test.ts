import { and, asc, desc, eq } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { attachmentRejectionText, createAgent, createTenant, readTicketAttachment } from '@relais/core';
import { attachments, categories, ticketMessages, tickets, type Tx } from '@relais/db';
import { build } from '../../server/src/app.js';
import type { Services } from '../../server/src/services.js';
import { createTestDatabase } from '../support/test-database.js';
import { createTestServices } from '../support/test-services.js';
import { disguisedExecutable, oversizedJpeg, randomPng } from '../support/test-files.js';

interface WebchatMessage {
  id: string;
  seq: number;
  from: 'customer' | 'bot';
  text: string;
  choices?: { id: string; label: string }[];
}

const WORDS = {
  fr: { pick: 'Français', openTicket: 'Ouvrir un ticket', category: 'Panne', opened: (n: number) => `Votre ticket n° ${n} est ouvert` },
  en: { pick: 'English', openTicket: 'Open a ticket', category: 'Outage', opened: (n: number) => `Your ticket #${n} is open` },
} as const;

// Issue 5 ("open a ticket ... with photos where the channel carries them") and issue 6 (files over
// the limit or of forbidden types are refused with a message) in the web chat: the real server's
// route and page, the engine, the attachment rules and the file store.
describe('web chat: photos and files', () => {
  let services: Services;
  let app: FastifyInstance;
  let tenantId: string;
  let slug: string;
  let agentId: string;
  let visitor = 0;

  beforeAll(async () => {
    services = await createTestServices(await createTestDatabase());
    app = await build(services, { adminWebBuildDirectory: false });
    const created = await createTenant({ db: services.db, clock: services.clock }, { name: 'Wifi Zone Akwa', email: 'files-akwa@example.cm', mode: 'commission' });
    tenantId = created.tenant.id;
    slug = created.tenant.slug;
    await services.db.withTenant(tenantId, (tx) => tx.insert(categories).values({ tenantId, nameFr: 'Panne', nameEn: 'Outage' }));
    agentId = (await createAgent(services, { tenantId, email: 'kevin@example.cm', name: 'Kevin Ekane' })).userId;
  });
  afterAll(async () => {
    await app?.close();
    await services?.close();
  });

  const inTenant = <T>(work: (tx: Tx) => Promise<T>) => services.db.withTenant(tenantId, (tx) => work(tx));
  const allAttachments = () => inTenant((tx) => tx.select().from(attachments).where(eq(attachments.tenantId, tenantId)));
  const latestTicket = async () => (await inTenant((tx) => tx.select().from(tickets).where(eq(tickets.tenantId, tenantId)).orderBy(desc(tickets.number)).limit(1)))[0]!;
  const messagesOf = (ticketId: string) =>
    inTenant((tx) => tx.select().from(ticketMessages).where(and(eq(ticketMessages.tenantId, tenantId), eq(ticketMessages.ticketId, ticketId))).orderBy(asc(ticketMessages.createdAt)));

  function newVisitor() {
    visitor += 1;
    const contactId = `files-visitor-${visitor}-${'z'.repeat(12)}`;
    let count = 0;
    const post = async (payload: Record<string, unknown>, messageId = `m${(count += 1)}-${visitor}-abcdef`) => {
      const response = await app.inject({ method: 'POST', url: `/api/webchat/${slug}/messages`, payload: { contactId, messageId, ...payload } });
      expect(response.statusCode).toBe(200);
      return response.json() as { duplicate: boolean; replies: WebchatMessage[] };
    };
    return {
      contactId,
      say: (text: string) => post({ text }),
      sendFile: (bytes: Buffer, options: { name?: string; caption?: string; messageId?: string } = {}) =>
        post({ ...(options.caption ? { text: options.caption } : {}), file: { name: options.name ?? 'photo.png', contentType: 'image/png', base64: bytes.toString('base64') } }, options.messageId),
    };
  }

  /** A visitor who chose a language, "open a ticket" and the category: the bot asks for a description. */
  async function describing(language: 'fr' | 'en') {
    const chat = newVisitor();
    await chat.say('bonjour');
    await chat.say(WORDS[language].pick);
    await chat.say(WORDS[language].openTicket);
    await chat.say(WORDS[language].category);
    return chat;
  }

  it.each(['fr', 'en'] as const)('in %s: a photo at "describe your request" opens the ticket with the photo on its description', async (language) => {
    const chat = await describing(language);
    const photo = randomPng();
    const answer = await chat.sendFile(photo, { name: 'routeur.png', caption: 'Le voyant du routeur est rouge' });
    const ticket = await latestTicket();
    expect(answer.replies.map((reply) => reply.text)).toEqual([expect.stringContaining(WORDS[language].opened(ticket.number))]);
    expect(ticket).toMatchObject({ subject: WORDS[language].category, status: 'open' });

    const [description] = await messagesOf(ticket.id);
    expect(description).toMatchObject({ authorKind: 'customer', body: 'Le voyant du routeur est rouge' });
    const onTicket = (await allAttachments()).filter((row) => row.ticketId === ticket.id);
    expect(onTicket).toEqual([expect.objectContaining({ messageId: description!.id, contentType: 'image/png', fileName: 'routeur.png', sizeBytes: photo.length })]);
    const file = await readTicketAttachment(services, { tenantId, userId: agentId, attachmentId: onTicket[0]!.id });
    expect(file.bytes.equals(photo)).toBe(true);

    // The visitor's own message reads as a photo with its caption.
    const page = (await app.inject({ method: 'GET', url: `/api/webchat/${slug}/messages?contactId=${chat.contactId}` })).json() as { messages: WebchatMessage[] };
    expect(page.messages.filter((message) => message.from === 'customer').at(-1)!.text).toBe('[Photo] Le voyant du routeur est rouge');
  });

  it('a photo without a caption is described as "Photo"', async () => {
    const chat = await describing('en');
    await chat.sendFile(randomPng());
    const ticket = await latestTicket();
    expect((await messagesOf(ticket.id))[0]!.body).toBe('Photo');
    expect((await allAttachments()).filter((row) => row.ticketId === ticket.id)).toHaveLength(1);
  });

  it.each(['fr', 'en'] as const)('in %s: a disguised file (an executable named photo.jpg) is refused with the message, nothing is stored, a text still opens the ticket', async (language) => {
    const chat = await describing(language);
    const before = await allAttachments();
    const ticketsBefore = (await latestTicket()).number;
    const answer = await chat.sendFile(disguisedExecutable(), { name: 'photo.jpg', caption: 'ma photo' });
    expect(answer.replies.map((reply) => reply.text)).toEqual([expect.stringContaining(attachmentRejectionText('type_not_allowed')[language])]);
    expect(await allAttachments()).toEqual(before);
    expect((await latestTicket()).number).toBe(ticketsBefore);

    const described = await chat.say('Plus de connexion depuis ce matin');
    const ticket = await latestTicket();
    expect(described.replies.map((reply) => reply.text)).toEqual([expect.stringContaining(WORDS[language].opened(ticket.number))]);
    expect(ticket.number).toBe(ticketsBefore + 1);
    expect(await allAttachments()).toEqual(before);
  });

  it('while an agent holds the conversation a photo lands on the ticket, on the message it became; a redelivery stores nothing twice', async () => {
    const chat = newVisitor();
    await chat.say('bonjour');
    await chat.say('Français');
    await chat.say('agent');
    const ticket = await latestTicket();
    const photo = randomPng();
    const first = await chat.sendFile(photo, { messageId: 'agent-photo-1' });
    expect(first).toEqual({ duplicate: false, replies: [] });
    const again = await chat.sendFile(photo, { messageId: 'agent-photo-1' });
    expect(again).toEqual({ duplicate: true, replies: [] });

    const last = (await messagesOf(ticket.id)).at(-1)!;
    expect(last).toMatchObject({ authorKind: 'customer', body: '[Photo]' });
    const onTicket = (await allAttachments()).filter((row) => row.ticketId === ticket.id);
    expect(onTicket).toEqual([expect.objectContaining({ messageId: last.id, contentType: 'image/png' })]);
    expect((await readTicketAttachment(services, { tenantId, userId: agentId, attachmentId: onTicket[0]!.id })).bytes.equals(photo)).toBe(true);
  });

  it('a photo at the menu gets the explanation and the menu; nothing is stored', async () => {
    const chat = newVisitor();
    await chat.say('bonjour');
    await chat.say('English');
    const before = await allAttachments();
    const answer = await chat.sendFile(randomPng());
    expect(answer.replies).toHaveLength(1);
    expect(answer.replies[0]!.text).toContain('I only read photos and files when you describe a problem');
    expect(answer.replies[0]!.choices!.map((choice) => choice.id)).toContain('menu:open_ticket');
    expect(await allAttachments()).toEqual(before);
  });

  it('a file of 10 MB + 1 byte is refused as too large; a larger body is a 413; a text alone keeps its small limit', async () => {
    const chat = await describing('fr');
    const before = await allAttachments();
    const answer = await chat.sendFile(oversizedJpeg(), { name: 'grosse.jpg' });
    expect(answer.replies.map((reply) => reply.text)).toEqual([expect.stringContaining(attachmentRejectionText('too_large').fr)]);
    expect(await allAttachments()).toEqual(before);

    const huge = await app.inject({
      method: 'POST',
      url: `/api/webchat/${slug}/messages`,
      payload: { contactId: chat.contactId, file: { name: 'huge.jpg', base64: oversizedJpeg(1024 * 1024).toString('base64') } },
    });
    expect(huge.statusCode).toBe(413);
    const longText = await app.inject({ method: 'POST', url: `/api/webchat/${slug}/messages`, payload: { contactId: chat.contactId, text: 'x'.repeat(40_000) } });
    expect(longText.statusCode).toBe(413);
    const nothing = await app.inject({ method: 'POST', url: `/api/webchat/${slug}/messages`, payload: { contactId: chat.contactId } });
    expect(nothing.statusCode).toBe(400);
  });

  it('the page offers a file picker for photos, PDFs and voice notes', async () => {
    const page = await app.inject({ method: 'GET', url: `/chat/${slug}` });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('type="file"');
    expect(page.body).toContain('accept="image/jpeg,image/png,image/gif,image/webp,application/pdf,audio/ogg"');
  });
});
