export * from './schema/index.js';
export * from './config.js';
export * from './database.js';
export * from './errors.js';
export { openDatabase, migratePostgres, runtimeRoleOf, type OpenOptions } from './connect.js';
export { findRowLevelSecurityEscapes, ensureRuntimeRole } from './runtime-role.js';
export { tenantTables, centralTables, tenantTableNames, centralTableNames, appendOnlyTableNames } from './tables.js';
