import { and, asc, eq, isNull, lte, ne, or, type SQL } from 'drizzle-orm';
import { tenants, tickets, users, type Database, type Tx } from '@relais/db';
import { notifyUsers } from '../../notifications/notify-users.js';
import type { Clock } from '../../shared/ports/clock.js';
import { recordTicketEvent } from '../record-ticket-event.js';
import { SYSTEM_ACTOR } from '../ticket-actor.js';
import { slaAlertText, type SlaAlert, type SlaTarget } from './sla-messages.js';

/** Tickets handled per tenant and run: a backlog (the job was down) drains over the next minutes. */
const DEFAULT_LIMIT_PER_TENANT = 500;

type MarkColumn = 'firstResponseWarnedAt' | 'firstResponseBreachedAt' | 'resolutionWarnedAt' | 'resolutionBreachedAt';

/** The first-response clock runs until the first agent reply, and not again once a ticket was reopened. */
const firstResponseRunning = and(isNull(tickets.firstRespondedAt), isNull(tickets.reopenedAt));

/** In this order: a warning before its breach, when both are due at once. */
const SLA_STEPS: { target: SlaTarget; alert: SlaAlert; passes: typeof tickets.firstResponseDueAt; due: typeof tickets.firstResponseDueAt; mark: MarkColumn; running?: SQL }[] = [
  { target: 'first_response', alert: 'sla_warning', passes: tickets.firstResponseWarnAt, due: tickets.firstResponseDueAt, mark: 'firstResponseWarnedAt', running: firstResponseRunning },
  { target: 'first_response', alert: 'sla_breached', passes: tickets.firstResponseDueAt, due: tickets.firstResponseDueAt, mark: 'firstResponseBreachedAt', running: firstResponseRunning },
  { target: 'resolution', alert: 'sla_warning', passes: tickets.resolutionWarnAt, due: tickets.resolutionDueAt, mark: 'resolutionWarnedAt' },
  { target: 'resolution', alert: 'sla_breached', passes: tickets.resolutionDueAt, due: tickets.resolutionDueAt, mark: 'resolutionBreachedAt' },
];

/** A step is due: its time has passed, it is not recorded yet, its clock runs. Pending tickets are paused, resolved and closed ones done. */
function stepDue(step: (typeof SLA_STEPS)[number], now: Date): SQL {
  return and(eq(tickets.status, 'open'), lte(step.passes, now), isNull(tickets[step.mark]), step.running)!;
}

export interface SlaCheckReport {
  checkedAt: string;
  tenants: number;
  tickets: number;
  warnings: number;
  breaches: number;
  failed: number;
}

/**
 * The SLA check (the `tickets.check-sla` job, every minute): across tenants, open tickets whose
 * 80 % warning or due time has passed get, once each, an `sla_warning` / `sla_breached` event
 * (data: target, dueAt), the *_warned_at / *_breached_at stamp, and a notification to the
 * assignee (the tenant's active admins when unassigned or the assignee is disabled). Each record
 * is a conditional UPDATE (... IS NULL RETURNING) in the ticket's own transaction: concurrent
 * runs never record twice, and one ticket's failure (reported to `onError`) stops no other.
 */
export async function checkTicketSla(
  deps: { db: Database; clock: Clock; onError?: (error: unknown, ticket: { tenantId: string; ticketId: string }) => void },
  options: { tenantId?: string; limitPerTenant?: number } = {},
): Promise<SlaCheckReport> {
  const now = deps.clock.now();
  const report: SlaCheckReport = { checkedAt: now.toISOString(), tenants: 0, tickets: 0, warnings: 0, breaches: 0, failed: 0 };
  const tenantRows = await deps.db.withPlatform((tx) =>
    tx
      .select({ id: tenants.id, timezone: tenants.timezone })
      .from(tenants)
      .where(and(ne(tenants.status, 'closed'), options.tenantId ? eq(tenants.id, options.tenantId) : undefined))
      .orderBy(asc(tenants.createdAt)),
  );
  for (const tenant of tenantRows) {
    report.tenants += 1;
    const due = await deps.db.withTenant(tenant.id, (tx) =>
      tx
        .select({ id: tickets.id })
        .from(tickets)
        .where(and(eq(tickets.tenantId, tenant.id), or(...SLA_STEPS.map((step) => stepDue(step, now)))))
        .limit(options.limitPerTenant ?? DEFAULT_LIMIT_PER_TENANT),
    );
    for (const { id: ticketId } of due) {
      report.tickets += 1;
      try {
        const recorded = await deps.db.withTenant(tenant.id, (tx) => recordDueAlerts(tx, { tenantId: tenant.id, timezone: tenant.timezone, ticketId, now }));
        for (const alert of recorded) report[alert === 'sla_warning' ? 'warnings' : 'breaches'] += 1;
      } catch (error) {
        report.failed += 1;
        deps.onError?.(error, { tenantId: tenant.id, ticketId });
      }
    }
  }
  return report;
}

/** Records, in order, every alert of one ticket that is due and not yet recorded; returns them. */
async function recordDueAlerts(tx: Tx, options: { tenantId: string; timezone: string; ticketId: string; now: Date }): Promise<SlaAlert[]> {
  const { tenantId, ticketId, now } = options;
  const recorded: SlaAlert[] = [];
  for (const step of SLA_STEPS) {
    // The IS NULL condition makes the stamp the claim: a concurrent run waits on the row lock,
    // then finds it set and records nothing.
    const [ticket] = await tx
      .update(tickets)
      .set({ [step.mark]: now })
      .where(and(eq(tickets.tenantId, tenantId), eq(tickets.id, ticketId), stepDue(step, now)))
      .returning({ number: tickets.number, subject: tickets.subject, assigneeId: tickets.assigneeId, dueAt: step.due, passedAt: step.passes });
    if (!ticket) continue;
    const dueAt = ticket.dueAt ?? now;
    // The activity log says when the threshold passed, not when this run noticed: a warning and a
    // breach found by one late run keep their order (80 % before 100 %) instead of sharing a time.
    const passedAt = ticket.passedAt && ticket.passedAt < now ? ticket.passedAt : now;
    await recordTicketEvent(tx, { tenantId, ticketId, kind: step.alert, actor: SYSTEM_ACTOR, data: { target: step.target, dueAt: dueAt.toISOString() }, at: passedAt });
    await notifyUsers(tx, {
      tenantId,
      userIds: await alertRecipients(tx, tenantId, ticket.assigneeId),
      kind: step.alert === 'sla_warning' ? 'ticket.sla_warning' : 'ticket.sla_breached',
      content: {
        ...slaAlertText(step.alert, { target: step.target, ticketNumber: ticket.number, subject: ticket.subject, dueAt, timezone: options.timezone }),
        ticketId,
        ticketNumber: ticket.number,
      },
      at: now,
    });
    recorded.push(step.alert);
  }
  return recorded;
}

/** The assignee if active, else the tenant's active admins: an SLA alert always reaches someone who can act. */
async function alertRecipients(tx: Tx, tenantId: string, assigneeId: string | null): Promise<string[]> {
  if (assigneeId) {
    const [assignee] = await tx.select({ id: users.id }).from(users).where(and(eq(users.tenantId, tenantId), eq(users.id, assigneeId), isNull(users.disabledAt)));
    if (assignee) return [assignee.id];
  }
  const admins = await tx.select({ id: users.id }).from(users).where(and(eq(users.tenantId, tenantId), eq(users.role, 'admin'), isNull(users.disabledAt)));
  return admins.map((admin) => admin.id);
}
