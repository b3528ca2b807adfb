import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  createAgent,
  createAutomation,
  createCannedResponse,
  createSecretBox,
  createTenant,
  createTicket,
  deleteAutomation,
  deleteCannedResponse,
  fillCannedTemplate,
  listCannedResponses,
  renderCannedResponse,
  cannedTemplateProblem,
  updateCannedResponse,
  type PlaceholderValues,
} from '@relais/core';
import { contacts, wifiVouchers, type Database } from '@relais/db';
import { randomBytes } from 'node:crypto';
import { errorOf } from '../../tests/support/app-error-of.js';
import { createTestDatabase, testDrivers, type TestDatabase } from '../../tests/support/test-database.js';
import { insertWifiPackage } from '../../tests/support/wifi-fixtures.js';

const NOW = new Date('2026-05-12T09:00:00Z');
const clock = { now: () => NOW };

const values: PlaceholderValues = {
  'customer.name': 'Awa',
  'customer.phone': '+237670000001',
  'ticket.number': '42',
  'ticket.subject': 'Code',
  'agent.name': 'Paul',
  'voucher.code': 'AKWA-7K3P',
  'tenant.name': 'WiFi Akwa',
};

describe('canned response templates (pure)', () => {
  it('accepts the known placeholders, with or without spaces inside the braces', () => {
    expect(cannedTemplateProblem('Bonjour {{customer.name}}, ticket n° {{ ticket.number }} — {{agent.name}}, {{tenant.name}}')).toBeUndefined();
    expect(cannedTemplateProblem('Un { seul } accolade, ou {x}, reste du texte')).toBeUndefined();
  });

  it.each([
    ['Bonjour {{customer.email}}', 'unknown placeholder {{customer.email}}'],
    ['Bonjour {{Customer.Name}}', 'unknown placeholder {{Customer.Name}}'],
    ['Bonjour {{}}', 'unknown placeholder {{}}'],
    ['Bonjour {{customer.name}', 'malformed placeholder near "Bonjour {{customer.name}"'],
    ['Bonjour customer.name}}', 'malformed placeholder'],
    ['Code : {{ {voucher.code} }}', 'malformed placeholder'],
  ])('refuses %j', (template, problem) => {
    expect(cannedTemplateProblem(template)).toContain(problem);
  });

  it('fills in one pass: a value that looks like a placeholder stays as written', () => {
    fc.assert(
      fc.property(fc.string(), (name) => {
        expect(fillCannedTemplate('[{{customer.name}}|{{agent.name}}]', { ...values, 'customer.name': name })).toBe(`[${name}|Paul]`);
      }),
    );
    expect(fillCannedTemplate('{{customer.name}}', { ...values, 'customer.name': "{{agent.name}} $& $1 $$" })).toBe("{{agent.name}} $& $1 $$");
  });
});

describe.each(testDrivers())('canned responses on %s', (driver) => {
  let test: TestDatabase;
  let db: Database;
  let tenantId: string;
  let adminId: string;
  let agentId: string;
  let counter = 0;
  const deps = () => ({ db, clock });

  beforeAll(async () => {
    test = await createTestDatabase(driver);
    db = test.db;
    const created = await createTenant({ db, clock }, { name: 'WiFi Akwa', email: `canned-${driver}@example.cm`, plan: 'business' });
    tenantId = created.tenant.id;
    adminId = created.admin.id;
    agentId = (await createAgent(deps(), { tenantId, email: `paul-${driver}@example.cm`, name: 'Paul Mbarga' })).userId;
  });
  afterAll(async () => {
    await test?.drop();
  });

  async function ticketFor(contact: { name?: string | null; locale?: 'fr' | 'en' | null; phone?: string }, assigneeId?: string) {
    counter += 1;
    const contactId = await db.withTenant(tenantId, async (tx) => {
      const [row] = await tx
        .insert(contacts)
        .values({ tenantId, name: contact.name ?? null, locale: contact.locale ?? null, phoneE164: contact.phone ?? `+2376990000${String(counter).padStart(2, '0')}` })
        .returning({ id: contacts.id });
      return row!.id;
    });
    const ticket = await createTicket(deps(), { tenantId, userId: adminId, contactId, subject: 'Mon code ne marche pas', ...(assigneeId ? { assigneeId } : {}) });
    return ticket;
  }

  const reply = (shortcut: string, bodyFr: string, bodyEn: string) => createCannedResponse(deps(), { tenantId, shortcut, title: `Réponse ${shortcut}`, bodyFr, bodyEn });

  it('saves, lists, searches and updates canned responses; the shortcut is typed with or without its slash', async () => {
    const merci = await reply('/merci', 'Merci {{customer.name}} !', 'Thank you {{customer.name}}!');
    expect(merci).toMatchObject({ shortcut: 'merci', title: 'Réponse /merci' });
    await reply('code-wifi', 'Votre code : {{voucher.code}}', 'Your code: {{voucher.code}}');
    expect((await listCannedResponses({ db }, { tenantId })).map((r) => r.shortcut)).toEqual(expect.arrayContaining(['code-wifi', 'merci']));
    expect((await listCannedResponses({ db }, { tenantId, search: '/mer' })).map((r) => r.shortcut)).toEqual(['merci']);
    expect((await listCannedResponses({ db }, { tenantId, search: '%' })).map((r) => r.shortcut)).toEqual([]);

    const updated = await updateCannedResponse(deps(), { tenantId, cannedResponseId: merci.id, bodyEn: 'Thanks {{customer.name}}, {{agent.name}} here.' });
    expect(updated).toMatchObject({ shortcut: 'merci', bodyFr: 'Merci {{customer.name}} !', bodyEn: 'Thanks {{customer.name}}, {{agent.name}} here.' });
  });

  it('refuses, when saved, unknown placeholders and stray braces, naming them', async () => {
    const unknown = await errorOf(reply('mail', 'Écrivez à {{customer.email}}', 'Write to {{customer.email}}'));
    expect(unknown.code).toBe('VALIDATION_FAILED');
    expect(unknown.message).toMatch(/^bodyFr: unknown placeholder \{\{customer\.email\}\} \(known: \{\{customer\.name\}\}/);
    const malformed = await errorOf(reply('brace', 'Bonjour {{customer.name}}', 'Hello {{customer.name}'));
    expect(malformed.message).toBe('bodyEn: malformed placeholder near "Hello {{customer.name}": write placeholders as {{customer.name}}');
    const existing = await reply('plain', 'Bonjour', 'Hello');
    expect((await errorOf(updateCannedResponse(deps(), { tenantId, cannedResponseId: existing.id, bodyFr: 'Code {{voucher}}' }))).message).toContain(
      'bodyFr: unknown placeholder {{voucher}}',
    );
  });

  it('refuses a badly formed or taken shortcut', async () => {
    expect((await errorOf(reply('Merci Beaucoup', 'a', 'b'))).message).toBe('shortcut: use 1 to 32 lowercase letters, digits, "-" or "_" (e.g. "merci")');
    expect((await errorOf(reply('x'.repeat(33), 'a', 'b'))).code).toBe('VALIDATION_FAILED');
    await reply('taken', 'a', 'b');
    const taken = await errorOf(reply('/taken', 'a', 'b'));
    expect(taken).toMatchObject({ code: 'CONFLICT', message: 'a canned response with shortcut "/taken" already exists' });
    const other = await reply('other', 'a', 'b');
    expect((await errorOf(updateCannedResponse(deps(), { tenantId, cannedResponseId: other.id, shortcut: 'taken' }))).code).toBe('CONFLICT');
    // Racing saves of one shortcut: exactly one wins, the other is a CONFLICT (not a raw database error).
    const raced = await Promise.allSettled([reply('raced', 'a', 'b'), reply('raced', 'c', 'd'), reply('raced', 'e', 'f')]);
    expect(raced.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(raced.flatMap((r) => (r.status === 'rejected' ? [(r.reason as { code?: string }).code] : []))).toEqual(['CONFLICT', 'CONFLICT']);
  });

  it("renders in the customer's language, else the tenant's, with the ticket's values", async () => {
    const template = await reply(
      'suivi',
      'Bonjour {{customer.name}} ({{customer.phone}}), ticket n° {{ticket.number}} « {{ticket.subject}} » : {{agent.name}} de {{tenant.name}}. Code : {{voucher.code}}',
      'Hello {{customer.name}} ({{customer.phone}}), ticket #{{ticket.number}} "{{ticket.subject}}": {{agent.name}} from {{tenant.name}}. Code: {{voucher.code}}',
    );
    const english = await ticketFor({ name: 'John', locale: 'en', phone: '+237670000099' }, agentId);
    expect(await renderCannedResponse({ db }, { tenantId, cannedResponseId: template.id, ticketId: english.ticketId })).toEqual({
      locale: 'en',
      text: `Hello John (+237670000099), ticket #${english.ticketNumber} "Mon code ne marche pas": Paul Mbarga from WiFi Akwa. Code: (no WiFi code for this ticket)`,
    });

    // No language of its own: the tenant's (French); no name: the fallback; the agent sending it signs.
    const french = await ticketFor({ name: null, locale: null, phone: '+237670000098' });
    const pkg = await insertWifiPackage(db, tenantId);
    await db.withTenant(tenantId, (tx) =>
      tx.insert(wifiVouchers).values({ tenantId, packageId: pkg.id, username: 'AKWA-7K3P', password: 'AKWA-7K3P', status: 'sold', source: 'import', ticketId: french.ticketId }),
    );
    expect(await renderCannedResponse({ db }, { tenantId, shortcut: '/suivi', ticketId: french.ticketId, agentUserId: agentId })).toEqual({
      locale: 'fr',
      text: `Bonjour cher client (+237670000098), ticket n° ${french.ticketNumber} « Mon code ne marche pas » : Paul Mbarga de WiFi Akwa. Code : AKWA-7K3P`,
    });
    // Asked in English explicitly; nobody assigned nor sending: the tenant speaks.
    expect((await renderCannedResponse({ db }, { tenantId, shortcut: 'suivi', ticketId: french.ticketId, locale: 'en' })).text).toBe(
      `Hello dear customer (+237670000098), ticket #${french.ticketNumber} "Mon code ne marche pas": WiFi Akwa from WiFi Akwa. Code: AKWA-7K3P`,
    );
  });

  it('inserts a hostile customer name verbatim: placeholders in it are not expanded', async () => {
    const hostile = '{{agent.name}} {{voucher.code}} $& {{customer.name}}';
    const template = await reply('bonjour', 'Bonjour {{customer.name}}, ici {{agent.name}}.', 'Hello {{customer.name}}, {{agent.name}} here.');
    const ticket = await ticketFor({ name: hostile, locale: 'fr' }, agentId);
    expect((await renderCannedResponse({ db }, { tenantId, cannedResponseId: template.id, ticketId: ticket.ticketId })).text).toBe(`Bonjour ${hostile}, ici Paul Mbarga.`);
  });

  it('answers NOT_FOUND for an unknown response, ticket or agent, and for another tenant', async () => {
    const template = await reply('introuvable', 'a', 'b');
    const ticket = await ticketFor({ name: 'Awa' });
    const missing = '00000000-0000-4000-8000-000000000000';
    expect((await errorOf(renderCannedResponse({ db }, { tenantId, shortcut: 'nope', ticketId: ticket.ticketId }))).message).toBe('no canned response with shortcut "/nope"');
    expect((await errorOf(renderCannedResponse({ db }, { tenantId, cannedResponseId: template.id, ticketId: missing }))).code).toBe('NOT_FOUND');
    expect((await errorOf(renderCannedResponse({ db }, { tenantId, cannedResponseId: template.id, ticketId: ticket.ticketId, agentUserId: missing }))).code).toBe('NOT_FOUND');
    expect((await errorOf(renderCannedResponse({ db }, { tenantId, ticketId: ticket.ticketId }))).code).toBe('VALIDATION_FAILED');
    const other = await createTenant({ db, clock }, { name: 'Autre', email: `canned-other-${driver}@example.cm`, plan: 'starter' });
    expect((await errorOf(renderCannedResponse({ db }, { tenantId: other.tenant.id, cannedResponseId: template.id, ticketId: ticket.ticketId }))).code).toBe('NOT_FOUND');
    expect(await listCannedResponses({ db }, { tenantId: other.tenant.id })).toEqual([]);
  });

  it('refuses to delete a canned response an automation sends, naming the automation', async () => {
    const template = await reply('bienvenue', 'Bienvenue {{customer.name}}', 'Welcome {{customer.name}}');
    const secrets = createSecretBox(randomBytes(32));
    const { automation } = await createAutomation(
      { db, clock, secrets },
      { tenantId, name: 'Accueil', event: 'created', actions: [{ type: 'send_canned', cannedResponseId: template.id }] },
    );
    const refused = await errorOf(deleteCannedResponse({ db }, { tenantId, cannedResponseId: template.id }));
    expect(refused).toMatchObject({ code: 'CONFLICT', message: 'this canned response is sent by automation "Accueil": change or delete it first' });
    await deleteAutomation({ db }, { tenantId, automationId: automation.id });
    await deleteCannedResponse({ db }, { tenantId, cannedResponseId: template.id });
    expect((await errorOf(deleteCannedResponse({ db }, { tenantId, cannedResponseId: template.id }))).code).toBe('NOT_FOUND');
  });
});
