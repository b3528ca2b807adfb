import { randomBytes } from 'node:crypto';
import { and, eq, inArray, isNull } from 'drizzle-orm';
import { automations, cannedResponses, categories, teams, users, type Tx } from '@relais/db';
import { z } from 'zod';
import { AppError } from '../../shared/app-error.js';
import { privateUrlHost } from '../../shared/public-network.js';
import { automationRuleFields, type AutomationAction, type AutomationEvent, type AutomationCondition, type AutomationConditionField } from './automation-rules.js';

export const createAutomationInput = z.object({
  tenantId: z.uuid(),
  ...automationRuleFields,
  match: automationRuleFields.match.default('all'),
  conditions: automationRuleFields.conditions.default([]),
  /** Evaluation order (lowest first); default: after the tenant's last automation. */
  position: z.number().int().min(0).max(1_000_000).optional(),
  active: z.boolean().default(true),
});
export type CreateAutomationInput = z.input<typeof createAutomationInput>;

export const updateAutomationInput = z.object({
  tenantId: z.uuid(),
  automationId: z.uuid(),
  name: automationRuleFields.name.optional(),
  event: automationRuleFields.event.optional(),
  match: automationRuleFields.match.optional(),
  conditions: automationRuleFields.conditions.optional(),
  actions: automationRuleFields.actions.optional(),
  position: z.number().int().min(0).max(1_000_000).optional(),
  /** false deactivates the automation (its history stays). */
  active: z.boolean().optional(),
  /** A new HMAC key for its webhooks; the old one stops working at once. */
  rotateWebhookSecret: z.boolean().default(false),
});
export type UpdateAutomationInput = z.input<typeof updateAutomationInput>;

export interface Automation {
  id: string;
  name: string;
  event: AutomationEvent;
  match: 'all' | 'any';
  conditions: AutomationCondition[];
  actions: AutomationAction[];
  position: number;
  active: boolean;
  /** Whether its webhooks are signed (the key itself is never shown again). */
  hasWebhookSecret: boolean;
  createdAt: Date;
  updatedAt: Date;
}

export interface SavedAutomation {
  automation: Automation;
  /** The webhook HMAC key, present only when it was just created: shown once, stored sealed. */
  webhookSecret?: string;
}

export function toAutomation(row: typeof automations.$inferSelect): Automation {
  return {
    id: row.id,
    name: row.name,
    event: row.event as AutomationEvent,
    match: row.match,
    conditions: row.conditions as AutomationCondition[],
    actions: row.actions as AutomationAction[],
    position: row.position,
    active: row.active,
    hasWebhookSecret: row.webhookSecretEnc !== null,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

/** A fresh webhook signing key: 32 random bytes, as receivers paste it into their config. */
export const newWebhookSecret = () => `whsec_${randomBytes(32).toString('base64url')}`;

export const hasWebhookAction = (actions: readonly AutomationAction[]) => actions.some((action) => action.type === 'webhook');

/** The rows an id-valued condition field names. */
const CONDITION_REFERENCES: Partial<Record<AutomationConditionField, { table: 'users' | 'teams' | 'categories'; what: string }>> = {
  'ticket.assignee_id': { table: 'users', what: 'active agent' },
  'ticket.team_id': { table: 'teams', what: 'team' },
  'ticket.category_id': { table: 'categories', what: 'category' },
};

/**
 * What zod cannot see: the users, teams, categories and canned responses a rule names must be
 * the tenant's (RLS hides the others, so they read as unknown). VALIDATION_FAILED names the first
 * one that is not, by its path in the input.
 */
export async function assertRuleReferences(tx: Tx, tenantId: string, rule: { conditions: readonly AutomationCondition[]; actions: readonly AutomationAction[] }): Promise<void> {
  const wanted: { path: string; table: 'users' | 'teams' | 'categories' | 'canned'; id: string; what: string }[] = [];
  rule.conditions.forEach((condition, index) => {
    if (!('value' in condition)) return;
    const ids = Array.isArray(condition.value) ? condition.value : [condition.value];
    const target = CONDITION_REFERENCES[condition.field];
    if (target) for (const id of ids) wanted.push({ path: `conditions.${index}.value`, ...target, id });
  });
  rule.actions.forEach((action, index) => {
    if (action.type === 'assign_agent') wanted.push({ path: `actions.${index}.userId`, table: 'users', id: action.userId, what: 'active agent' });
    if (action.type === 'assign_team') wanted.push({ path: `actions.${index}.teamId`, table: 'teams', id: action.teamId, what: 'team' });
    if (action.type === 'send_canned') wanted.push({ path: `actions.${index}.cannedResponseId`, table: 'canned', id: action.cannedResponseId, what: 'canned response' });
    if (action.type === 'notify' && Array.isArray(action.to)) for (const id of action.to) wanted.push({ path: `actions.${index}.to`, table: 'users', id, what: 'active user' });
  });
  const found = new Set<string>();
  const idsOf = (table: string) => [...new Set(wanted.filter((item) => item.table === table).map((item) => item.id))];
  const collect = (table: string, rows: { id: string }[]) => rows.forEach((row) => found.add(`${table}:${row.id}`));
  if (idsOf('users').length > 0) {
    collect('users', await tx.select({ id: users.id }).from(users).where(and(eq(users.tenantId, tenantId), inArray(users.id, idsOf('users')), isNull(users.disabledAt))));
  }
  if (idsOf('teams').length > 0) collect('teams', await tx.select({ id: teams.id }).from(teams).where(and(eq(teams.tenantId, tenantId), inArray(teams.id, idsOf('teams')))));
  if (idsOf('categories').length > 0) {
    collect('categories', await tx.select({ id: categories.id }).from(categories).where(and(eq(categories.tenantId, tenantId), inArray(categories.id, idsOf('categories')))));
  }
  if (idsOf('canned').length > 0) {
    collect('canned', await tx.select({ id: cannedResponses.id }).from(cannedResponses).where(and(eq(cannedResponses.tenantId, tenantId), inArray(cannedResponses.id, idsOf('canned')))));
  }
  const missing = wanted.find((item) => !found.has(`${item.table}:${item.id.toLowerCase()}`));
  if (missing) throw new AppError('VALIDATION_FAILED', `${missing.path}: no ${missing.what} of this workspace has the id ${missing.id}`);
}

/**
 * A webhook URL whose host is "localhost" or a private, loopback or link-local address is refused
 * when saved (VALIDATION_FAILED naming the action), unless private networks are allowed; names
 * are checked again, resolved, when the webhook is called (deliverAutomationWebhook).
 */
export function assertPublicWebhookUrls(actions: readonly AutomationAction[], allowPrivateNetworks = false): void {
  if (allowPrivateNetworks) return;
  actions.forEach((action, index) => {
    if (action.type === 'webhook' && privateUrlHost(action.url)) {
      throw new AppError('VALIDATION_FAILED', `actions.${index}.url: the address must be on the public internet (not this server or a private network)`);
    }
  });
}

/** NOT_FOUND unless the automation exists; returns its row, locked for the update. */
export async function lockAutomation(tx: Tx, tenantId: string, automationId: string): Promise<typeof automations.$inferSelect> {
  const [row] = await tx
    .select()
    .from(automations)
    .where(and(eq(automations.tenantId, tenantId), eq(automations.id, automationId)))
    .for('update');
  if (!row) throw new AppError('NOT_FOUND', 'automation not found');
  return row;
}
