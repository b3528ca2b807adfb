import * as central from './central.js';
import * as tenant from './tenant.js';

export * from './central.js';
export * from './tenant.js';
export { CURRENT_TENANT_SQL } from './columns.js';

/** Both modules, as drizzle's relational query builder wants them. */
export const schema = { ...central, ...tenant };
export const centralSchema = central;
export const tenantSchema = tenant;
