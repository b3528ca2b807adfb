export * from './shared/app-error.js';
export * from './shared/ports/job-queue.js';
export * from './shared/ports/clock.js';
export * from './auth/password.js';
export * from './tenants/slug.js';
export * from './tenants/create-tenant.js';
export * from './tenants/list-tenants.js';
export * from './shared/secret-box.js';
