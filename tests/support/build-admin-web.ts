import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * vitest globalSetup: tests that serve the admin web app need its Remix build. Build it only
 * when it is missing or older than its sources, so that a normal run costs nothing.
 */
const REPOSITORY_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const ADMIN_WEB = join(REPOSITORY_ROOT, 'admin-web');
const SERVER_BUILD = join(ADMIN_WEB, 'build', 'server', 'index.js');

export default function setup(): void {
  const builtAtMs = existsSync(SERVER_BUILD) ? statSync(SERVER_BUILD).mtimeMs : 0;
  const sourcesChangedAtMs = Math.max(
    newestMtimeMs(join(ADMIN_WEB, 'app')),
    newestMtimeMs(join(ADMIN_WEB, 'public')),
    statSync(join(ADMIN_WEB, 'vite.config.ts')).mtimeMs,
  );
  if (builtAtMs >= sourcesChangedAtMs) return;

  console.log('[globalSetup] building the admin web app (missing or out of date)...');
  execFileSync('npm', ['run', 'build', '--workspace', '@relais/admin-web'], {
    cwd: REPOSITORY_ROOT,
    // vitest sets NODE_ENV=test, which would bundle React's development build.
    env: { ...process.env, NODE_ENV: 'production' },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
}

function newestMtimeMs(directory: string): number {
  let newest = 0;
  if (!existsSync(directory)) return newest;
  for (const entry of readdirSync(directory, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    newest = Math.max(newest, statSync(join(entry.parentPath, entry.name)).mtimeMs);
  }
  return newest;
}
