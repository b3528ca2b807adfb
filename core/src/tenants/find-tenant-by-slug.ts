import { eq } from 'drizzle-orm';
import { tenants, type Database } from '@relais/db';
import { AppError } from '../shared/app-error.js';

export interface TenantRef {
  id: string;
  slug: string;
  name: string;
  defaultLocale: 'fr' | 'en';
}

/** The tenant an operator names on the command line; NOT_FOUND says where to look. */
export async function findTenantBySlug(deps: { db: Database }, slug: string): Promise<TenantRef> {
  const [tenant] = await deps.db.withPlatform((tx) =>
    tx.select({ id: tenants.id, slug: tenants.slug, name: tenants.name, defaultLocale: tenants.defaultLocale }).from(tenants).where(eq(tenants.slug, slug)).limit(1),
  );
  if (!tenant) throw new AppError('NOT_FOUND', `no tenant with slug "${slug}" (see relais tenant:list)`);
  return tenant as TenantRef;
}
