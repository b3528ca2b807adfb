import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { categories, contacts, executeRows, mikrotikRouters, paymentAttempts, payments, tickets, type Database } from '@relais/db';
import { createPackage, createTenant, generateVouchers, type CreatePackageInput, type SecretBox } from '@relais/core';

const clock = { now: () => new Date() };

/** A commission-mode tenant (with its first admin user) named after the test. */
export async function createWifiTenant(db: Database, label: string): Promise<string> {
  const suffix = randomUUID().slice(0, 8);
  const { tenant } = await createTenant({ db, clock }, { name: `WiFi ${label} ${suffix}`, email: `${label}-${suffix}@example.cm`, slug: `${label}-${suffix}`, mode: 'commission' });
  return tenant.id;
}

export async function createStockedPackage(
  db: Database,
  tenantId: string,
  options: { stock: number; package?: Partial<CreatePackageInput> } = { stock: 0 },
): Promise<string> {
  const created = await createPackage({ db }, { tenantId, nameFr: `Forfait ${randomUUID().slice(0, 6)}`, nameEn: `Package ${randomUUID().slice(0, 6)}`, priceXaf: 500, validityMinutes: 1_440, ...options.package });
  if (options.stock > 0) await generateVouchers({ db }, { tenantId, packageId: created.id, count: options.stock, length: 10 });
  return created.id;
}

/**
 * `count` tickets in a category that sells `packageId`, each paid: a successful payment attempt,
 * and (unless `withoutPlatformPayment`) the platform's successful customer payment with the same
 * external reference, as confirmPayment leaves them. Batch inserts: hundreds in a few statements.
 */
export async function createPaidWifiTickets(
  db: Database,
  tenantId: string,
  packageId: string,
  count: number,
  options: { priceXaf?: number; paid?: boolean } = {},
): Promise<string[]> {
  const priceXaf = options.priceXaf ?? 500;
  const references = Array.from({ length: count }, () => randomUUID());
  const ticketIds = await db.withTenant(tenantId, async (tx) => {
    const [category] = await tx.insert(categories).values({ tenantId, nameFr: 'Forfait WiFi', nameEn: 'WiFi package', priceXaf, wifiPackageId: packageId }).returning();
    const [{ next }] = (await executeRows(tx, sql`select coalesce(max(number), 0) + 1 as next from tickets where tenant_id = ${tenantId}`)) as [{ next: number }];
    const contactRows = await tx
      .insert(contacts)
      .values(references.map(() => ({ tenantId, name: 'Awa', phoneE164: `+2376${String(Math.floor(Math.random() * 1e8)).padStart(8, '0')}` })))
      .onConflictDoNothing()
      .returning({ id: contacts.id });
    const ticketRows = await tx
      .insert(tickets)
      .values(references.map((_, i) => ({ tenantId, number: Number(next) + i, contactId: contactRows[i % contactRows.length]!.id, categoryId: category!.id, subject: 'Acheter du WiFi' })))
      .returning({ id: tickets.id });
    if (options.paid !== false) {
      await tx.insert(paymentAttempts).values(
        ticketRows.map((ticket, i) => ({
          tenantId,
          ticketId: ticket.id,
          amountXaf: priceXaf,
          payerMsisdn: '+237670000001',
          externalReference: references[i]!,
          status: 'successful' as const,
          expiresAt: new Date(Date.now() + 300_000),
          completedAt: new Date(),
        })),
      );
    }
    return ticketRows.map((ticket) => ticket.id);
  });
  if (options.paid !== false) {
    await db.withPlatform((tx) =>
      tx.insert(payments).values(
        references.map((externalReference) => ({
          tenantId,
          kind: 'customer_payment' as const,
          externalReference,
          phone: '+237670000001',
          amountXaf: priceXaf,
          status: 'successful' as const,
          expiresAt: new Date(Date.now() + 300_000),
          completedAt: new Date(),
        })),
      ),
    );
  }
  return ticketIds;
}

/** A router row as router:add stores it (password sealed for the tenant); nothing listens there unless a test starts a simulator. */
export async function createRouterRow(
  db: Database,
  secrets: SecretBox,
  tenantId: string,
  options: { name: string; host?: string; port?: number; username?: string; password?: string; dnsName?: string | null },
): Promise<string> {
  const [router] = await db.withTenant(tenantId, (tx) =>
    tx
      .insert(mikrotikRouters)
      .values({
        tenantId,
        name: options.name,
        host: options.host ?? '127.0.0.1',
        port: options.port ?? 8728,
        username: options.username ?? 'api',
        passwordEnc: secrets.seal(options.password ?? 'secret', tenantId),
        dnsName: options.dnsName ?? null,
      })
      .returning({ id: mikrotikRouters.id }),
  );
  return router!.id;
}
