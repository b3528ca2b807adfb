import { and, eq } from 'drizzle-orm';
import { cannedResponses, contacts, tenants, tickets, users, wifiVouchers, type Database, type Tx } from '@relais/db';
import { z } from 'zod';
import type { BilingualText } from '../../shared/bilingual-text.js';
import { AppError } from '../../shared/app-error.js';
import { parseInput } from '../../shared/parse-input.js';
import { fillCannedTemplate, type PlaceholderValues } from './canned-placeholders.js';

export const renderCannedResponseInput = z
  .object({
    tenantId: z.uuid(),
    cannedResponseId: z.uuid().optional(),
    shortcut: z
      .string()
      .trim()
      .transform((value) => value.replace(/^\//, ''))
      .optional(),
    ticketId: z.uuid(),
    /** The agent about to send it; default: the ticket's assignee. */
    agentUserId: z.uuid().optional(),
    /** Default: the customer's language, else the tenant's. */
    locale: z.enum(['fr', 'en']).optional(),
  })
  .refine((input) => (input.cannedResponseId === undefined) !== (input.shortcut === undefined), { message: 'give either cannedResponseId or shortcut' });
export type RenderCannedResponseInput = z.input<typeof renderCannedResponseInput>;

export interface RenderedCannedResponse {
  text: string;
  locale: 'fr' | 'en';
}

/**
 * What a placeholder becomes when the ticket has nothing for it. Visible words rather than an
 * empty string, so an agent reading the preview notices (and the customer never reads
 * "Votre code :" followed by nothing): no claimed voucher, no known name. A missing phone is
 * left empty; a missing agent is the tenant's name (the team speaking).
 */
export const CANNED_PLACEHOLDER_FALLBACKS = {
  customerName: { fr: 'cher client', en: 'dear customer' },
  voucherCode: { fr: '(aucun code WiFi pour ce ticket)', en: '(no WiFi code for this ticket)' },
} satisfies Record<string, BilingualText>;

/** A canned response filled in for a ticket, in its own transaction. */
export async function renderCannedResponse(deps: { db: Database }, options: RenderCannedResponseInput): Promise<RenderedCannedResponse> {
  const input = parseInput(renderCannedResponseInput, options);
  return deps.db.withTenant(input.tenantId, (tx) => renderCannedResponseInTx(tx, input));
}

/**
 * A canned response filled in for a ticket, in the caller's transaction (automations reply with
 * it): in `locale`, else the customer's language, else the tenant's. NOT_FOUND for an unknown
 * response, ticket or agent.
 */
export async function renderCannedResponseInTx(tx: Tx, options: RenderCannedResponseInput): Promise<RenderedCannedResponse> {
  const input = parseInput(renderCannedResponseInput, options);
  const { tenantId } = input;
  const [response] = await tx
    .select({ bodyFr: cannedResponses.bodyFr, bodyEn: cannedResponses.bodyEn })
    .from(cannedResponses)
    .where(
      and(
        eq(cannedResponses.tenantId, tenantId),
        input.cannedResponseId ? eq(cannedResponses.id, input.cannedResponseId) : eq(cannedResponses.shortcut, input.shortcut!),
      ),
    );
  if (!response) throw new AppError('NOT_FOUND', input.shortcut ? `no canned response with shortcut "/${input.shortcut}"` : 'canned response not found');

  const [ticket] = await tx
    .select({
      number: tickets.number,
      subject: tickets.subject,
      assigneeId: tickets.assigneeId,
      contactName: contacts.name,
      contactPhone: contacts.phoneE164,
      contactLocale: contacts.locale,
    })
    .from(tickets)
    .innerJoin(contacts, and(eq(contacts.tenantId, tickets.tenantId), eq(contacts.id, tickets.contactId)))
    .where(and(eq(tickets.tenantId, tenantId), eq(tickets.id, input.ticketId)));
  if (!ticket) throw new AppError('NOT_FOUND', 'ticket not found');
  const [tenant] = await tx.select({ name: tenants.name, defaultLocale: tenants.defaultLocale }).from(tenants).where(eq(tenants.id, tenantId));
  const agentId = input.agentUserId ?? ticket.assigneeId;
  let agentName: string | undefined;
  if (agentId) {
    const [agent] = await tx.select({ name: users.name }).from(users).where(and(eq(users.tenantId, tenantId), eq(users.id, agentId)));
    if (!agent && input.agentUserId) throw new AppError('NOT_FOUND', 'agent not found');
    agentName = agent?.name;
  }
  const [voucher] = await tx
    .select({ username: wifiVouchers.username })
    .from(wifiVouchers)
    .where(and(eq(wifiVouchers.tenantId, tenantId), eq(wifiVouchers.ticketId, input.ticketId)));

  const locale = input.locale ?? ticket.contactLocale ?? tenant!.defaultLocale;
  const values: PlaceholderValues = {
    'customer.name': ticket.contactName?.trim() || CANNED_PLACEHOLDER_FALLBACKS.customerName[locale],
    'customer.phone': ticket.contactPhone ?? '',
    'ticket.number': String(ticket.number),
    'ticket.subject': ticket.subject,
    'agent.name': agentName ?? tenant!.name,
    // The code the customer types on the hotspot page (the voucher's user name, as delivered).
    'voucher.code': voucher?.username ?? CANNED_PLACEHOLDER_FALLBACKS.voucherCode[locale],
    'tenant.name': tenant!.name,
  };
  return { text: fillCannedTemplate(locale === 'fr' ? response.bodyFr : response.bodyEn, values), locale };
}
