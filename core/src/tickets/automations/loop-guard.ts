/** Longest chain of automations one customer or agent action may set off. */
export const MAX_AUTOMATION_CHAIN = 5;

/**
 * Whether an automation must not run on an event: it is already in the chain of automations that
 * caused the event (it would trigger itself, directly or through others), or the chain is as long
 * as we allow. `causedBy` is the event's `data.causedBy` (absent for people's and system events).
 */
export function isAutomationLoop(automationId: string, causedBy: readonly string[]): boolean {
  return causedBy.length >= MAX_AUTOMATION_CHAIN || causedBy.includes(automationId);
}

/** The chain an event carries, tolerating events recorded before chains existed. */
export function automationChainOf(data: unknown): string[] {
  const chain = (data as { causedBy?: unknown } | null)?.causedBy;
  return Array.isArray(chain) ? chain.filter((id): id is string => typeof id === 'string') : [];
}
