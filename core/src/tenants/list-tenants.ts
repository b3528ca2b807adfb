import { asc } from 'drizzle-orm';
import { tenants, type Database } from '@relais/db';

export interface TenantSummary {
  id: string;
  slug: string;
  name: string;
  email: string;
  billingMode: 'subscription' | 'commission';
  planId: string | null;
  status: 'active' | 'grace' | 'suspended' | 'closed';
  createdAt: Date;
}

export async function listTenants(deps: { db: Database }): Promise<TenantSummary[]> {
  return deps.db.withPlatform((tx) =>
    tx
      .select({
        id: tenants.id,
        slug: tenants.slug,
        name: tenants.name,
        email: tenants.email,
        billingMode: tenants.billingMode,
        planId: tenants.planId,
        status: tenants.status,
        createdAt: tenants.createdAt,
      })
      .from(tenants)
      .orderBy(asc(tenants.createdAt), asc(tenants.slug)),
  );
}
