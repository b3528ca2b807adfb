import type { AutomationCondition, AutomationConditionField } from './automation-rules.js';

/** A ticket and its contact as conditions see them: text, a list (tags), or nothing. */
export type AutomationTicketFacts = Record<AutomationConditionField, string | string[] | null>;

const fold = (text: string) => text.normalize('NFC').toLowerCase();

/** Whether one condition holds. Texts compare without case; an empty field equals nothing. */
export function automationConditionHolds(condition: AutomationCondition, facts: AutomationTicketFacts): boolean {
  const actual = facts[condition.field];
  switch (condition.operator) {
    case 'is_set':
      return Array.isArray(actual) ? actual.length > 0 : actual !== null && actual !== '';
    case 'is_not_set':
      return !automationConditionHolds({ field: condition.field, operator: 'is_set' }, facts);
    case 'includes':
      return Array.isArray(actual) && actual.some((tag) => fold(tag) === fold(condition.value));
    case 'excludes':
      return !automationConditionHolds({ ...condition, operator: 'includes' }, facts);
    case 'in':
      return typeof actual === 'string' && condition.value.some((value) => fold(value) === fold(actual));
    case 'not_in':
      return !automationConditionHolds({ ...condition, operator: 'in' }, facts);
    case 'equals':
      return typeof actual === 'string' && fold(actual) === fold(condition.value);
    case 'not_equals':
      return !automationConditionHolds({ ...condition, operator: 'equals' }, facts);
    case 'contains':
      return typeof actual === 'string' && fold(actual).includes(fold(condition.value));
    case 'not_contains':
      return !automationConditionHolds({ ...condition, operator: 'contains' }, facts);
    case 'starts_with':
      return typeof actual === 'string' && fold(actual).startsWith(fold(condition.value));
  }
}

/** `all`: every condition holds; `any`: at least one does. A rule without conditions always matches. */
export function automationConditionsMatch(match: 'all' | 'any', conditions: readonly AutomationCondition[], facts: AutomationTicketFacts): boolean {
  if (conditions.length === 0) return true;
  return match === 'all' ? conditions.every((condition) => automationConditionHolds(condition, facts)) : conditions.some((condition) => automationConditionHolds(condition, facts));
}
