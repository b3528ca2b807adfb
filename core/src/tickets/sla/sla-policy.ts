import { and, asc, eq, ne } from 'drizzle-orm';
import { z } from 'zod';
import { slaPolicies, TICKET_PRIORITIES, violatedUniqueConstraint, type Tx } from '@relais/db';
import { AppError } from '../../shared/app-error.js';
import type { TicketPriority } from '../ticket-values.js';

/** A year of minutes: a longer target is a typing mistake, not a service level. */
const MAX_TARGET_MINUTES = 525_600;

const targetMinutes = z
  .number()
  .int('targets are whole minutes')
  .positive('targets are positive (leave a target out for none)')
  .max(MAX_TARGET_MINUTES, `targets are at most ${MAX_TARGET_MINUTES} minutes`);

/** One priority's targets, in business minutes; a missing one means no target. */
export const priorityTargetsSchema = z.strictObject({ firstResponseMinutes: targetMinutes.optional(), resolutionMinutes: targetMinutes.optional() });
export type PriorityTargets = z.output<typeof priorityTargetsSchema>;

/** Targets per priority; a missing priority has none. */
export const slaTargetsSchema = z.strictObject(
  Object.fromEntries(TICKET_PRIORITIES.map((priority) => [priority, priorityTargetsSchema.optional()])) as Record<TicketPriority, z.ZodOptional<typeof priorityTargetsSchema>>,
);
export type SlaTargets = Partial<Record<TicketPriority, PriorityTargets>>;

export const slaPolicyNameSchema = z.string().trim().min(1, 'name is required').max(80);

export interface SlaPolicy {
  id: string;
  name: string;
  targets: SlaTargets;
  isDefault: boolean;
  createdAt: Date;
  updatedAt: Date;
}

export const slaPolicyColumns = {
  id: slaPolicies.id,
  name: slaPolicies.name,
  targets: slaPolicies.targets,
  isDefault: slaPolicies.isDefault,
  createdAt: slaPolicies.createdAt,
  updatedAt: slaPolicies.updatedAt,
};

/** Stored targets (validated when written: a row that no longer parses is a fault, not "no target"). */
export function storedSlaTargets(value: unknown): SlaTargets {
  const parsed = slaTargetsSchema.safeParse(value);
  if (!parsed.success) throw new AppError('INTERNAL', 'stored SLA targets are invalid');
  return parsed.data;
}

export function toSlaPolicy(row: { id: string; name: string; targets: unknown; isDefault: boolean; createdAt: Date; updatedAt: Date }): SlaPolicy {
  return { ...row, targets: storedSlaTargets(row.targets) };
}

/** Unsets the tenant's default policy (but `keepPolicyId`): the partial unique index allows one default. */
export async function clearDefaultPolicy(tx: Tx, tenantId: string, now: Date, keepPolicyId?: string): Promise<void> {
  await tx
    .update(slaPolicies)
    .set({ isDefault: false, updatedAt: now })
    .where(and(eq(slaPolicies.tenantId, tenantId), eq(slaPolicies.isDefault, true), keepPolicyId ? ne(slaPolicies.id, keepPolicyId) : undefined));
}

/** Two admins choosing different defaults at once: the unique index stops the second one. */
export function asDefaultConflict(error: unknown): unknown {
  return violatedUniqueConstraint(error) === 'sla_policies_one_default' ? new AppError('CONFLICT', 'another SLA policy was made the default at the same time; try again') : error;
}

export async function loadSlaPolicy(tx: Tx, tenantId: string, policyId: string): Promise<SlaPolicy> {
  const [row] = await tx.select(slaPolicyColumns).from(slaPolicies).where(and(eq(slaPolicies.tenantId, tenantId), eq(slaPolicies.id, policyId)));
  if (!row) throw new AppError('NOT_FOUND', 'SLA policy not found');
  return toSlaPolicy(row);
}

export async function loadSlaPolicies(tx: Tx, tenantId: string): Promise<SlaPolicy[]> {
  const rows = await tx.select(slaPolicyColumns).from(slaPolicies).where(eq(slaPolicies.tenantId, tenantId)).orderBy(asc(slaPolicies.name), asc(slaPolicies.id));
  return rows.map(toSlaPolicy);
}
