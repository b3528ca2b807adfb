import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { z } from 'zod';
import {
  AppError,
  automationActionSchema,
  automationConditionSchema,
  automationChainOf,
  automationConditionsMatch,
  isAutomationLoop,
  MAX_AUTOMATION_CHAIN,
  conditionOperatorsFor,
  parseInput,
  type AutomationCondition,
  type AutomationTicketFacts,
} from '@relais/core';

const rule = z.object({ conditions: z.array(automationConditionSchema), actions: z.array(automationActionSchema) });

/** The message parseInput gives for a rule (what an admin reads when saving it). */
function rejection(input: { conditions?: unknown[]; actions?: unknown[] }): string {
  try {
    parseInput(rule, { conditions: input.conditions ?? [], actions: input.actions ?? [] });
  } catch (error) {
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).code).toBe('VALIDATION_FAILED');
    return (error as AppError).message;
  }
  throw new Error('the rule was accepted');
}

const parseConditions = (conditions: unknown[]) => parseInput(rule, { conditions, actions: [] }).conditions;

const facts: AutomationTicketFacts = {
  'ticket.status': 'open',
  'ticket.priority': 'high',
  'ticket.tags': ['wifi', 'vip'],
  'ticket.category_id': '7a0d1f4e-6a53-4c4c-8f6e-0d8f7b1e2a10',
  'ticket.assignee_id': null,
  'ticket.team_id': null,
  'ticket.subject': 'Mon code WiFi ne marche pas',
  'ticket.channel': 'whatsapp',
  'contact.name': 'Awa Ngono',
  'contact.phone': '+237670000001',
  'contact.locale': null,
};

describe('automation rules: validated when saved', () => {
  it.each([
    [{ field: 'ticket.priority', operator: 'equals', value: 'critical' }, 'conditions.0.value: priority must be one of low, medium, high, urgent'],
    [{ field: 'ticket.status', operator: 'in', value: ['open', 'done'] }, 'conditions.0.value.1: status must be one of open, pending, resolved, closed'],
    [{ field: 'ticket.mood', operator: 'equals', value: 'angry' }, 'conditions.0.field: field must be one of'],
    [{ field: 'ticket.priority', operator: 'contains', value: 'hi' }, 'conditions.0.operator: ticket.priority cannot be compared with "contains" (use equals, not_equals, in, not_in)'],
    [{ field: 'ticket.tags', operator: 'equals', value: 'vip' }, 'conditions.0.operator: ticket.tags cannot be compared with "equals" (use includes, excludes, is_set, is_not_set)'],
    [{ field: 'ticket.status', operator: 'in', value: [] }, 'conditions.0.value: "in" takes a list of 1 to 50 values'],
    [{ field: 'ticket.status', operator: 'in', value: 'open' }, 'conditions.0.value: "in" takes a list of 1 to 50 values'],
    [{ field: 'ticket.assignee_id', operator: 'is_set', value: 'x' }, 'conditions.0.value: "is_set" takes no value'],
    [{ field: 'ticket.assignee_id', operator: 'equals', value: 'bob' }, 'conditions.0.value: assignee_id must be an id (uuid)'],
    [{ field: 'ticket.subject', operator: 'is_set' }, 'conditions.0.operator: ticket.subject cannot be compared with "is_set"'],
    [{ field: 'contact.locale', operator: 'equals', value: 'de' }, 'conditions.0.value: locale must be one of fr, en'],
    [{ field: 'ticket.channel', operator: 'equals', value: 'fax' }, 'conditions.0.value: channel must be one of whatsapp'],
    [{ field: 'contact.name', operator: 'contains', value: '   ' }, 'conditions.0.value: name must be a text of 1 to 200 characters'],
    [{ field: 'ticket.status', operator: 'equals', value: 'open', extra: 1 }, 'conditions.0'],
  ])('refuses the condition %j', (condition, message) => {
    expect(rejection({ conditions: [condition] })).toContain(message);
  });

  it.each([
    [{ type: 'set_priority', priority: 'critical' }, 'actions.0.priority: priority must be one of low, medium, high, urgent'],
    [{ type: 'set_status', status: 'done' }, 'actions.0.status: status must be one of open, pending, resolved, closed'],
    [{ type: 'delete_ticket' }, 'actions.0.type: type must be one of assign_agent'],
    [{ type: 'assign_agent', userId: 'bob' }, 'actions.0.userId: userId must be an id (uuid)'],
    [{ type: 'webhook', url: 'ftp://example.cm/hook' }, 'actions.0.url: url must be an http:// or https:// address'],
    [{ type: 'webhook', url: 'https://user:pass@example.cm/hook' }, 'actions.0.url: url must not carry a user name or password'],
    [{ type: 'notify', to: 'everyone', message: { fr: 'x', en: 'y' } }, 'actions.0.to: to must be "assignee", "admins" or a list of user ids'],
    [{ type: 'notify', to: 'admins', message: { fr: 'Urgent' } }, 'actions.0.message.en'],
    [{ type: 'add_tag', tag: '' }, 'actions.0.tag'],
  ])('refuses the action %j', (action, message) => {
    expect(rejection({ actions: [action] })).toContain(message);
  });

  it('normalises what it accepts: tags like tickets keep them, ids in lower case', () => {
    const parsed = parseInput(rule, {
      conditions: [
        { field: 'ticket.tags', operator: 'includes', value: ' Client VIP ' },
        { field: 'ticket.team_id', operator: 'in', value: ['7A0D1F4E-6A53-4C4C-8F6E-0D8F7B1E2A10'] },
        { field: 'ticket.assignee_id', operator: 'is_not_set' },
      ],
      actions: [{ type: 'add_tag', tag: 'Rappel Client' }, { type: 'escalate' }, { type: 'webhook', url: 'https://hooks.example.cm/relais' }],
    });
    expect(parsed.conditions).toEqual([
      { field: 'ticket.tags', operator: 'includes', value: 'client-vip' },
      { field: 'ticket.team_id', operator: 'in', value: ['7a0d1f4e-6a53-4c4c-8f6e-0d8f7b1e2a10'] },
      { field: 'ticket.assignee_id', operator: 'is_not_set' },
    ]);
    expect(parsed.actions[0]).toEqual({ type: 'add_tag', tag: 'rappel-client' });
  });

  it('offers only the operators that fit each field', () => {
    expect(conditionOperatorsFor('ticket.priority')).toEqual(['equals', 'not_equals', 'in', 'not_in']);
    expect(conditionOperatorsFor('ticket.tags')).toEqual(['includes', 'excludes', 'is_set', 'is_not_set']);
    expect(conditionOperatorsFor('contact.phone')).toContain('starts_with');
  });
});

describe('automation conditions: all / any', () => {
  const highPriority = { field: 'ticket.priority', operator: 'equals', value: 'high' };
  const fromTelegram = { field: 'ticket.channel', operator: 'equals', value: 'telegram' };

  it('all: every condition must hold; any: one is enough', () => {
    const conditions = parseConditions([highPriority, fromTelegram]);
    expect(automationConditionsMatch('all', conditions, facts)).toBe(false);
    expect(automationConditionsMatch('any', conditions, facts)).toBe(true);
    expect(automationConditionsMatch('all', parseConditions([highPriority]), facts)).toBe(true);
    expect(automationConditionsMatch('any', parseConditions([fromTelegram]), facts)).toBe(false);
  });

  it('a rule without conditions matches every event of its kind', () => {
    expect(automationConditionsMatch('all', [], facts)).toBe(true);
    expect(automationConditionsMatch('any', [], facts)).toBe(true);
  });

  it.each([
    [{ field: 'ticket.tags', operator: 'includes', value: 'VIP' }, true],
    [{ field: 'ticket.tags', operator: 'excludes', value: 'vip' }, false],
    [{ field: 'ticket.tags', operator: 'is_set' }, true],
    [{ field: 'ticket.status', operator: 'in', value: ['pending', 'open'] }, true],
    [{ field: 'ticket.status', operator: 'not_in', value: ['pending', 'open'] }, false],
    [{ field: 'ticket.subject', operator: 'contains', value: 'code wifi' }, true],
    [{ field: 'ticket.subject', operator: 'not_contains', value: 'paiement' }, true],
    [{ field: 'contact.phone', operator: 'starts_with', value: '+23767' }, true],
    [{ field: 'contact.name', operator: 'equals', value: 'awa ngono' }, true],
    [{ field: 'contact.locale', operator: 'is_not_set' }, true],
    [{ field: 'contact.locale', operator: 'equals', value: 'fr' }, false],
    [{ field: 'contact.locale', operator: 'not_equals', value: 'fr' }, true],
    [{ field: 'ticket.assignee_id', operator: 'is_set' }, false],
    [{ field: 'ticket.category_id', operator: 'equals', value: '7A0D1F4E-6A53-4C4C-8F6E-0D8F7B1E2A10' }, true],
  ])('%j holds: %s', (condition, expected) => {
    expect(automationConditionsMatch('all', parseConditions([condition]), facts)).toBe(expected);
  });

  it('a negated operator always holds exactly when its positive form does not', () => {
    const pairs = [
      ['equals', 'not_equals'],
      ['in', 'not_in'],
      ['contains', 'not_contains'],
      ['includes', 'excludes'],
      ['is_set', 'is_not_set'],
    ] as const;
    fc.assert(
      fc.property(fc.constantFrom(...pairs), fc.option(fc.string({ maxLength: 8 }), { nil: null }), fc.string({ minLength: 1, maxLength: 8 }), ([yes, no], actual, value) => {
        const field = yes === 'includes' ? 'ticket.tags' : 'contact.name';
        const shaped = (operator: string): AutomationCondition =>
          (operator.startsWith('is_') ? { field, operator } : { field, operator, value: operator.endsWith('in') ? [value] : value }) as AutomationCondition;
        const world = { ...facts, [field]: field === 'ticket.tags' ? (actual === null ? [] : [actual]) : actual };
        expect(automationConditionsMatch('all', [shaped(yes)], world)).toBe(!automationConditionsMatch('all', [shaped(no)], world));
      }),
    );
  });
});

describe('automation loop guard', () => {
  const a = 'a0000000-0000-4000-8000-000000000001';
  const b = 'b0000000-0000-4000-8000-000000000002';

  it('an automation never runs on an event it is in the chain of', () => {
    expect(isAutomationLoop(a, [])).toBe(false);
    expect(isAutomationLoop(a, [a])).toBe(true);
    expect(isAutomationLoop(a, [b, a])).toBe(true);
    expect(isAutomationLoop(b, [a])).toBe(false);
  });

  it(`chains stop at ${MAX_AUTOMATION_CHAIN} automations, whoever comes next`, () => {
    const chain = Array.from({ length: MAX_AUTOMATION_CHAIN }, (_, i) => `c0000000-0000-4000-8000-00000000000${i}`);
    expect(isAutomationLoop(a, chain.slice(0, -1))).toBe(false);
    expect(isAutomationLoop(a, chain)).toBe(true);
  });

  it('reads the chain from event data, tolerating events without one', () => {
    expect(automationChainOf({ changes: {} })).toEqual([]);
    expect(automationChainOf(null)).toEqual([]);
    expect(automationChainOf({ causedBy: [a, 3, b] })).toEqual([a, b]);
  });
});
