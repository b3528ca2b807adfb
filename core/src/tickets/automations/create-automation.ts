import { eq, max } from 'drizzle-orm';
import { automations, type Database } from '@relais/db';
import { parseInput } from '../../shared/parse-input.js';
import type { Clock } from '../../shared/ports/clock.js';
import type { SecretBox } from '../../shared/secret-box.js';
import {
  assertPublicWebhookUrls,
  assertRuleReferences,
  createAutomationInput,
  hasWebhookAction,
  newWebhookSecret,
  toAutomation,
  type CreateAutomationInput,
  type SavedAutomation,
} from './automation-input.js';

/**
 * Saves an automation: an event, conditions (all / any) and actions, every one checked now (an
 * invalid rule is refused when saved, never discovered when it runs). With a webhook action it
 * gets an HMAC signing key, returned this once and stored sealed (tenant id as associated data).
 */
export async function createAutomation(deps: { db: Database; clock: Clock; secrets: SecretBox; allowPrivateNetworks?: boolean }, options: CreateAutomationInput): Promise<SavedAutomation> {
  const input = parseInput(createAutomationInput, options);
  const { tenantId } = input;
  assertPublicWebhookUrls(input.actions, deps.allowPrivateNetworks);
  const webhookSecret = hasWebhookAction(input.actions) ? newWebhookSecret() : undefined;
  const now = deps.clock.now();
  const row = await deps.db.withTenant(tenantId, async (tx) => {
    await assertRuleReferences(tx, tenantId, input);
    let position = input.position;
    if (position === undefined) {
      const [last] = await tx.select({ position: max(automations.position) }).from(automations).where(eq(automations.tenantId, tenantId));
      position = (last?.position ?? -1) + 1;
    }
    const [created] = await tx
      .insert(automations)
      .values({
        tenantId,
        name: input.name,
        event: input.event,
        match: input.match,
        conditions: input.conditions,
        actions: input.actions,
        webhookSecretEnc: webhookSecret ? deps.secrets.seal(webhookSecret, tenantId) : null,
        position,
        active: input.active,
        createdAt: now,
        updatedAt: now,
      })
      .returning();
    return created!;
  });
  return { automation: toAutomation(row), ...(webhookSecret ? { webhookSecret } : {}) };
}
