import { z } from 'zod';

/**
 * Package fields as a reseller sets them, shared by createPackage and updatePackage so the CLI and
 * the web form accept the same values. Durations and sizes arrive as numbers: the edges (CLI
 * flags, forms) parse "1d", "3h", "1G" with core/src/routers/routeros-values.ts.
 */
const MAX_PRICE_XAF = 10_000_000;
const MAX_VALIDITY_MINUTES = 366 * 24 * 60;

/** RouterOS rate-limit: rx[/tx] with optional k/M/G, then optional burst fields ("2M/5M", "512k/1M 1M/2M 768k/1536k 10/10"). */
const RATE_LIMIT = /^\d+[kMG]?(\/\d+[kMG]?)?( \S+){0,5}$/;
/** What RouterOS accepts in a profile name without quoting trouble in the API or scripts. */
const PROFILE_NAME = /^[^\s=;"'`\\][^=;"'`\\]{0,63}$/;

export const packageFields = {
  nameFr: z.string().trim().min(1, 'the French name is required').max(80, 'at most 80 characters'),
  nameEn: z.string().trim().min(1, 'the English name is required').max(80, 'at most 80 characters'),
  priceXaf: z
    .number({ error: 'must be a whole number of XAF' })
    .int('must be a whole number of XAF')
    .min(0, 'cannot be negative')
    .max(MAX_PRICE_XAF, `at most ${MAX_PRICE_XAF} XAF`),
  validityMinutes: z
    .number({ error: 'must be a whole number of minutes' })
    .int('must be a whole number of minutes')
    .min(1, 'must be at least one minute')
    .max(MAX_VALIDITY_MINUTES, 'at most one year'),
  /** Connected time allowed (RouterOS limit-uptime); null = no limit. */
  timeLimitSeconds: z.number().int('must be whole seconds').min(1, 'must be positive').max(2_147_483_647).nullable(),
  /** Bytes in + out allowed (RouterOS limit-bytes-total); null = no limit. */
  dataLimitBytes: z.number().int('must be whole bytes').min(1, 'must be positive').max(Number.MAX_SAFE_INTEGER).nullable(),
  mikrotikProfile: z.string().trim().regex(PROFILE_NAME, 'must be a RouterOS hotspot user profile name (1-64 characters, no = ; quotes or backslash)'),
  rateLimit: z.string().trim().regex(RATE_LIMIT, 'must be a RouterOS rate limit such as 2M/5M').nullable(),
  lowStockThreshold: z.number().int('must be a whole number').min(0, 'cannot be negative').max(100_000),
  generateOnDemand: z.boolean(),
  active: z.boolean(),
  /** Routers the package is sold on, by id or by name (the CLI names them). Replaces the whole set. */
  routerIds: z.array(z.uuid('router ids must be UUIDs')).max(50),
  routerNames: z.array(z.string().trim().min(1)).max(50),
};

export const createPackageInput = z.object({
  tenantId: z.uuid(),
  nameFr: packageFields.nameFr,
  nameEn: packageFields.nameEn,
  priceXaf: packageFields.priceXaf,
  validityMinutes: packageFields.validityMinutes,
  timeLimitSeconds: packageFields.timeLimitSeconds.optional(),
  dataLimitBytes: packageFields.dataLimitBytes.optional(),
  mikrotikProfile: packageFields.mikrotikProfile.default('default'),
  rateLimit: packageFields.rateLimit.optional(),
  lowStockThreshold: packageFields.lowStockThreshold.default(10),
  generateOnDemand: packageFields.generateOnDemand.default(false),
  active: packageFields.active.default(true),
  routerIds: packageFields.routerIds.default([]),
  routerNames: packageFields.routerNames.default([]),
});
export type CreatePackageInput = z.input<typeof createPackageInput>;

export const updatePackageInput = z.object({
  tenantId: z.uuid(),
  packageId: z.uuid(),
  nameFr: packageFields.nameFr.optional(),
  nameEn: packageFields.nameEn.optional(),
  priceXaf: packageFields.priceXaf.optional(),
  validityMinutes: packageFields.validityMinutes.optional(),
  timeLimitSeconds: packageFields.timeLimitSeconds.optional(),
  dataLimitBytes: packageFields.dataLimitBytes.optional(),
  mikrotikProfile: packageFields.mikrotikProfile.optional(),
  rateLimit: packageFields.rateLimit.optional(),
  lowStockThreshold: packageFields.lowStockThreshold.optional(),
  generateOnDemand: packageFields.generateOnDemand.optional(),
  active: packageFields.active.optional(),
  /** Given (even empty): the package is sold on exactly these routers. Omitted: unchanged. */
  routerIds: packageFields.routerIds.optional(),
  routerNames: packageFields.routerNames.optional(),
});
export type UpdatePackageInput = z.input<typeof updatePackageInput>;
