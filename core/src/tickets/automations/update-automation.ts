import { and, eq } from 'drizzle-orm';
import { automations, type Database } from '@relais/db';
import { parseInput } from '../../shared/parse-input.js';
import type { Clock } from '../../shared/ports/clock.js';
import type { SecretBox } from '../../shared/secret-box.js';
import {
  assertPublicWebhookUrls,
  assertRuleReferences,
  hasWebhookAction,
  lockAutomation,
  newWebhookSecret,
  toAutomation,
  updateAutomationInput,
  type SavedAutomation,
  type UpdateAutomationInput,
} from './automation-input.js';
import { storedAutomationRuleSchema } from './automation-rules.js';

/**
 * Changes the given fields of an automation (omitted ones stay), checked as at creation; `active:
 * false` deactivates it. A webhook action added to an automation without a signing key creates
 * one, and `rotateWebhookSecret` replaces it: either way the new key is returned this once.
 */
export async function updateAutomation(deps: { db: Database; clock: Clock; secrets: SecretBox; allowPrivateNetworks?: boolean }, options: UpdateAutomationInput): Promise<SavedAutomation> {
  const input = parseInput(updateAutomationInput, options);
  const { tenantId, automationId } = input;
  if (input.actions) assertPublicWebhookUrls(input.actions, deps.allowPrivateNetworks);
  let webhookSecret: string | undefined;
  const row = await deps.db.withTenant(tenantId, async (tx) => {
    const current = await lockAutomation(tx, tenantId, automationId);
    const stored = parseInput(storedAutomationRuleSchema, { conditions: current.conditions, actions: current.actions });
    const rule = { conditions: input.conditions ?? stored.conditions, actions: input.actions ?? stored.actions };
    if (input.conditions || input.actions) await assertRuleReferences(tx, tenantId, rule);
    if (input.rotateWebhookSecret || (hasWebhookAction(rule.actions) && current.webhookSecretEnc === null)) webhookSecret = newWebhookSecret();
    const [updated] = await tx
      .update(automations)
      .set({
        ...(input.name !== undefined ? { name: input.name } : {}),
        ...(input.event !== undefined ? { event: input.event } : {}),
        ...(input.match !== undefined ? { match: input.match } : {}),
        ...(input.position !== undefined ? { position: input.position } : {}),
        ...(input.active !== undefined ? { active: input.active } : {}),
        conditions: rule.conditions,
        actions: rule.actions,
        ...(webhookSecret ? { webhookSecretEnc: deps.secrets.seal(webhookSecret, tenantId) } : {}),
        updatedAt: deps.clock.now(),
      })
      .where(and(eq(automations.tenantId, tenantId), eq(automations.id, automationId)))
      .returning();
    return updated!;
  });
  return { automation: toAutomation(row), ...(webhookSecret ? { webhookSecret } : {}) };
}
