/**
 * `npm run db:generate -- --name what_changed`: drizzle-kit generate, then FORCE row-level
 * security on every table the migrations enable it for. drizzle-kit emits ENABLE but not FORCE,
 * and without FORCE the table owner would bypass the tenant policy.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const dbRoot = join(dirname(fileURLToPath(import.meta.url)), '..');
const migrationsDir = join(dbRoot, 'migrations');

execFileSync('npx', ['drizzle-kit', 'generate', ...process.argv.slice(2)], { cwd: dbRoot, stdio: 'inherit' });

const ENABLE_RLS = /^ALTER TABLE ("[^"]+") ENABLE ROW LEVEL SECURITY;--> statement-breakpoint$/gm;

for (const file of readdirSync(migrationsDir).filter((name) => name.endsWith('.sql'))) {
  const path = join(migrationsDir, file);
  const original = readFileSync(path, 'utf8');
  const forced = original.replace(ENABLE_RLS, (statement, table: string) => {
    const force = `ALTER TABLE ${table} FORCE ROW LEVEL SECURITY;--> statement-breakpoint`;
    return original.includes(force) ? statement : `${statement}\n${force}`;
  });
  if (forced !== original) {
    writeFileSync(path, forced);
    console.log(`forced row-level security in ${file}`);
  }
}
