import { eq, or, sql } from 'drizzle-orm';
import { z } from 'zod';
import {
  auditLog,
  subscriptions,
  tenants,
  tenantStatusHistory,
  users,
  violatedUniqueConstraint,
  type Database,
} from '@relais/db';
import { generateOneTimePassword, hashPassword } from '../auth/password.js';
import { AppError } from '../shared/app-error.js';
import type { Clock } from '../shared/ports/clock.js';
import { SLUG_PATTERN, slugify } from './slug.js';
import { parseInput } from '../shared/parse-input.js';

export const SUBSCRIPTION_PLANS = ['starter', 'business', 'enterprise'] as const;

export const createTenantInput = z
  .object({
    name: z.string().trim().min(2, 'name must have at least 2 characters').max(120),
    email: z.email('email must be a valid address').max(254).transform((email) => email.toLowerCase()),
    slug: z.string().regex(SLUG_PATTERN, 'slug must be 1-48 lowercase letters, digits or dashes').optional(),
    mode: z.enum(['subscription', 'commission']).default('subscription'),
    plan: z.enum(SUBSCRIPTION_PLANS).optional(),
    locale: z.enum(['fr', 'en']).default('fr'),
  })
  .superRefine((input, ctx) => {
    if (input.mode === 'commission' && input.plan) {
      ctx.addIssue({ code: 'custom', path: ['plan'], message: 'a plan applies to subscription mode only' });
    }
  });

export type CreateTenantInput = z.input<typeof createTenantInput>;

export interface CreatedTenant {
  tenant: { id: string; slug: string; name: string; email: string; billingMode: 'subscription' | 'commission'; planId: string };
  admin: { id: string; email: string; oneTimePassword: string };
}

function addOneMonth(date: Date): Date {
  const next = new Date(date);
  next.setUTCMonth(next.getUTCMonth() + 1);
  return next;
}

/**
 * Creates a reseller and its first admin user in one transaction: either everything exists
 * afterwards or nothing does. The admin's one-time password is returned once, never stored.
 */
export async function createTenant(deps: { db: Database; clock: Clock }, options: CreateTenantInput): Promise<CreatedTenant> {
  const input = parseInput(createTenantInput, options);
  const slug = input.slug ?? slugify(input.name);
  if (!SLUG_PATTERN.test(slug)) {
    throw new AppError('VALIDATION_FAILED', `slug: cannot derive one from "${input.name}"; pass --slug`);
  }
  const planId = input.mode === 'commission' ? 'commission' : (input.plan ?? 'starter');
  const now = deps.clock.now();
  const oneTimePassword = generateOneTimePassword();
  const passwordHash = await hashPassword(oneTimePassword);

  try {
    return await deps.db.withPlatform(async (tx, platform) => {
      const clash = await tx
        .select({ slug: tenants.slug, email: tenants.email })
        .from(tenants)
        .where(or(eq(tenants.slug, slug), eq(sql`lower(${tenants.email})`, input.email)));
      if (clash.some((row) => row.slug === slug)) throw conflict('slug', slug);
      if (clash.length > 0) throw conflict('email', input.email);

      const [tenant] = await tx
        .insert(tenants)
        .values({ slug, name: input.name, email: input.email, billingMode: input.mode, planId, defaultLocale: input.locale })
        .returning();
      const tenantId = tenant!.id;
      await tx.insert(tenantStatusHistory).values({ tenantId, toStatus: 'active', reason: 'created' });
      if (input.mode === 'subscription') {
        await tx.insert(subscriptions).values({ tenantId, planId, currentPeriodStart: now, currentPeriodEnd: addOneMonth(now) });
      }

      await platform.enterTenant(tenantId);
      const [admin] = await tx
        .insert(users)
        .values({ tenantId, email: input.email, name: input.name, role: 'admin', passwordHash, mustChangePassword: true, locale: input.locale })
        .returning({ id: users.id });
      await tx.insert(auditLog).values({
        tenantId,
        actorKind: 'system',
        action: 'tenant.created',
        targetType: 'tenant',
        targetId: tenantId,
        data: { slug, mode: input.mode, planId },
      });
      return {
        tenant: { id: tenantId, slug, name: input.name, email: input.email, billingMode: input.mode, planId },
        admin: { id: admin!.id, email: input.email, oneTimePassword },
      };
    });
  } catch (error) {
    // Two creations racing past the check above meet the unique indexes instead.
    const constraint = violatedUniqueConstraint(error);
    if (constraint === 'tenants_slug_key') throw conflict('slug', slug);
    if (constraint === 'tenants_email_key') throw conflict('email', input.email);
    throw error;
  }
}

function conflict(field: 'slug' | 'email', value: string): AppError {
  return new AppError('CONFLICT', `a tenant with ${field} "${value}" already exists`, { details: { field } });
}
