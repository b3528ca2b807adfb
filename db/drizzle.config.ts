import { defineConfig } from 'drizzle-kit';

// Generation only reads the schema; it never connects. `relais migrate` applies the files.
export default defineConfig({
  dialect: 'postgresql',
  schema: ['./src/schema/central.ts', './src/schema/tenant.ts'],
  out: './migrations',
  entities: { roles: false },
});
