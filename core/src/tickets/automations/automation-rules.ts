import { CHANNEL_KINDS, LOCALES, TICKET_PRIORITIES, TICKET_STATUSES } from '@relais/db';
import { z } from 'zod';
import { normaliseTags } from '../open-ticket.js';
import { AUTOMATION_TRIGGER_KINDS } from '../record-ticket-event.js';
import { tagSchema } from '../ticket-values.js';

/** The ticket events automations react to. */
export const AUTOMATION_EVENTS = AUTOMATION_TRIGGER_KINDS;
export type AutomationEvent = (typeof AUTOMATION_EVENTS)[number];

type FieldSpec =
  | { kind: 'enum'; values: readonly string[]; nullable: boolean }
  | { kind: 'text'; nullable: boolean }
  | { kind: 'id' }
  | { kind: 'tags' };

/**
 * What a condition can look at: the ticket as it is when the rule is evaluated, its contact, and
 * the kind of channel its conversation came from. Ids (category, assignee, team) may be empty.
 */
export const AUTOMATION_CONDITION_FIELDS = {
  'ticket.status': { kind: 'enum', values: TICKET_STATUSES, nullable: false },
  'ticket.priority': { kind: 'enum', values: TICKET_PRIORITIES, nullable: false },
  'ticket.tags': { kind: 'tags' },
  'ticket.category_id': { kind: 'id' },
  'ticket.assignee_id': { kind: 'id' },
  'ticket.team_id': { kind: 'id' },
  'ticket.subject': { kind: 'text', nullable: false },
  'ticket.channel': { kind: 'enum', values: CHANNEL_KINDS, nullable: true },
  'contact.name': { kind: 'text', nullable: true },
  'contact.phone': { kind: 'text', nullable: true },
  'contact.locale': { kind: 'enum', values: LOCALES, nullable: true },
} as const satisfies Record<string, FieldSpec>;
export type AutomationConditionField = keyof typeof AUTOMATION_CONDITION_FIELDS;
const FIELD_NAMES = Object.keys(AUTOMATION_CONDITION_FIELDS) as [AutomationConditionField, ...AutomationConditionField[]];

export const AUTOMATION_CONDITION_OPERATORS = [
  'equals',
  'not_equals',
  'in',
  'not_in',
  'contains',
  'not_contains',
  'starts_with',
  'includes',
  'excludes',
  'is_set',
  'is_not_set',
] as const;
export type AutomationConditionOperator = (typeof AUTOMATION_CONDITION_OPERATORS)[number];

/** How many values an operator takes: one, a list, or none. */
const ARITY: Record<AutomationConditionOperator, 'one' | 'list' | 'none'> = {
  equals: 'one',
  not_equals: 'one',
  in: 'list',
  not_in: 'list',
  contains: 'one',
  not_contains: 'one',
  starts_with: 'one',
  includes: 'one',
  excludes: 'one',
  is_set: 'none',
  is_not_set: 'none',
};

/** The operators that make sense for a field (a priority is not "contained", tags are not "equal"). */
export function conditionOperatorsFor(field: AutomationConditionField): readonly AutomationConditionOperator[] {
  const spec: FieldSpec = AUTOMATION_CONDITION_FIELDS[field];
  switch (spec.kind) {
    case 'enum':
      return spec.nullable ? ['equals', 'not_equals', 'in', 'not_in', 'is_set', 'is_not_set'] : ['equals', 'not_equals', 'in', 'not_in'];
    case 'text':
      return ['equals', 'not_equals', 'contains', 'not_contains', 'starts_with', ...(spec.nullable ? (['is_set', 'is_not_set'] as const) : [])];
    case 'id':
      return ['equals', 'not_equals', 'in', 'not_in', 'is_set', 'is_not_set'];
    case 'tags':
      // is_set: the ticket has at least one tag.
      return ['includes', 'excludes', 'is_set', 'is_not_set'];
  }
}

/** Checks and normalises one value of `field`; a message naming what is expected otherwise. */
function parseValue(field: AutomationConditionField, value: unknown): { ok: true; value: string } | { ok: false; message: string } {
  const spec: FieldSpec = AUTOMATION_CONDITION_FIELDS[field];
  const name = field.replace(/^(ticket|contact)\./, '');
  switch (spec.kind) {
    case 'enum':
      return typeof value === 'string' && spec.values.includes(value)
        ? { ok: true, value }
        : { ok: false, message: `${name} must be one of ${spec.values.join(', ')}` };
    case 'text': {
      const parsed = z.string().trim().min(1).max(200).safeParse(value);
      return parsed.success ? { ok: true, value: parsed.data } : { ok: false, message: `${name} must be a text of 1 to 200 characters` };
    }
    case 'id': {
      const parsed = z.uuid().safeParse(value);
      return parsed.success ? { ok: true, value: parsed.data.toLowerCase() } : { ok: false, message: `${name} must be an id (uuid)` };
    }
    case 'tags': {
      const parsed = tagSchema.safeParse(value);
      const tag = parsed.success ? normaliseTags([parsed.data])[0] : undefined;
      return tag ? { ok: true, value: tag } : { ok: false, message: 'tag must be a text of 1 to 40 characters' };
    }
  }
}

export type AutomationCondition =
  | { field: AutomationConditionField; operator: 'equals' | 'not_equals' | 'contains' | 'not_contains' | 'starts_with' | 'includes' | 'excludes'; value: string }
  | { field: AutomationConditionField; operator: 'in' | 'not_in'; value: string[] }
  | { field: AutomationConditionField; operator: 'is_set' | 'is_not_set' };

export const automationConditionSchema = z
  .object({
    field: z.enum(FIELD_NAMES, { error: `field must be one of ${FIELD_NAMES.join(', ')}` }),
    operator: z.enum(AUTOMATION_CONDITION_OPERATORS, { error: `operator must be one of ${AUTOMATION_CONDITION_OPERATORS.join(', ')}` }),
    value: z.unknown().optional(),
  })
  .strict()
  .transform((raw, context): AutomationCondition => {
    const allowed = conditionOperatorsFor(raw.field);
    if (!allowed.includes(raw.operator)) {
      context.addIssue({ code: 'custom', path: ['operator'], message: `${raw.field} cannot be compared with "${raw.operator}" (use ${allowed.join(', ')})` });
      return z.NEVER;
    }
    const arity = ARITY[raw.operator];
    if (arity === 'none') {
      if (raw.value !== undefined) {
        context.addIssue({ code: 'custom', path: ['value'], message: `"${raw.operator}" takes no value` });
        return z.NEVER;
      }
      return { field: raw.field, operator: raw.operator as 'is_set' | 'is_not_set' };
    }
    if (arity === 'list') {
      if (!Array.isArray(raw.value) || raw.value.length === 0 || raw.value.length > 50) {
        context.addIssue({ code: 'custom', path: ['value'], message: `"${raw.operator}" takes a list of 1 to 50 values` });
        return z.NEVER;
      }
      const values: string[] = [];
      for (const [index, item] of raw.value.entries()) {
        const parsed = parseValue(raw.field, item);
        if (!parsed.ok) {
          context.addIssue({ code: 'custom', path: ['value', index], message: parsed.message });
          return z.NEVER;
        }
        values.push(parsed.value);
      }
      return { field: raw.field, operator: raw.operator as 'in' | 'not_in', value: values };
    }
    const parsed = parseValue(raw.field, raw.value);
    if (!parsed.ok) {
      context.addIssue({ code: 'custom', path: ['value'], message: parsed.message });
      return z.NEVER;
    }
    return { field: raw.field, operator: raw.operator as Exclude<AutomationCondition['operator'], 'in' | 'not_in' | 'is_set' | 'is_not_set'>, value: parsed.value };
  });

const bilingualMessage = z.object({ fr: z.string().trim().min(1).max(1_000), en: z.string().trim().min(1).max(1_000) }).strict();

const webhookUrl = z
  .url({ protocol: /^https?$/, hostname: z.regexes.hostname, error: 'url must be an http:// or https:// address' })
  .max(2_000)
  .refine((url) => {
    const parsed = new URL(url);
    return parsed.username === '' && parsed.password === '';
  }, 'url must not carry a user name or password (the request is signed instead)');

/** What an automation may do, each validated when the automation is saved. */
export const automationActionSchema = z.discriminatedUnion(
  'type',
  [
    z.object({ type: z.literal('assign_agent'), userId: z.uuid({ error: 'userId must be an id (uuid)' }) }).strict(),
    z.object({ type: z.literal('assign_team'), teamId: z.uuid({ error: 'teamId must be an id (uuid)' }) }).strict(),
    z.object({ type: z.literal('set_priority'), priority: z.enum(TICKET_PRIORITIES, { error: `priority must be one of ${TICKET_PRIORITIES.join(', ')}` }) }).strict(),
    z.object({ type: z.literal('set_status'), status: z.enum(TICKET_STATUSES, { error: `status must be one of ${TICKET_STATUSES.join(', ')}` }) }).strict(),
    z.object({ type: z.literal('add_tag'), tag: tagSchema.transform((tag) => normaliseTags([tag])[0]!) }).strict(),
    z.object({ type: z.literal('send_canned'), cannedResponseId: z.uuid({ error: 'cannedResponseId must be an id (uuid)' }) }).strict(),
    z
      .object({
        type: z.literal('notify'),
        /** The ticket's assignee, the tenant's admins, or these users. */
        to: z.union([z.literal('assignee'), z.literal('admins'), z.array(z.uuid()).min(1).max(50)], { error: 'to must be "assignee", "admins" or a list of user ids' }),
        message: bilingualMessage,
      })
      .strict(),
    /** One priority level up (urgent stays urgent), and the admins are told. */
    z.object({ type: z.literal('escalate') }).strict(),
    z.object({ type: z.literal('webhook'), url: webhookUrl }).strict(),
  ],
  { error: 'type must be one of assign_agent, assign_team, set_priority, set_status, add_tag, send_canned, notify, escalate, webhook' },
);
export type AutomationAction = z.output<typeof automationActionSchema>;

export const automationRuleFields = {
  name: z.string().trim().min(1).max(100),
  event: z.enum(AUTOMATION_EVENTS, { error: `event must be one of ${AUTOMATION_EVENTS.join(', ')}` }),
  /** all: every condition holds; any: at least one. No condition: every event of its kind. */
  match: z.enum(['all', 'any'], { error: 'match must be "all" or "any"' }),
  conditions: z.array(automationConditionSchema).max(20),
  actions: z.array(automationActionSchema).min(1, 'an automation needs at least one action').max(10),
};

/** A stored rule as the evaluator reads it (parsed again: the same schema as at save). */
export const storedAutomationRuleSchema = z.object({ conditions: automationRuleFields.conditions, actions: automationRuleFields.actions });
