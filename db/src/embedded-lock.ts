import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import lockfile from 'proper-lockfile';
import { DatabaseSetupError } from './errors.js';

/** A live holder refreshes the lock this often; a lock not refreshed for STALE_MS is taken over. */
const REFRESH_MS = 5_000;
const STALE_MS = 20_000;

/**
 * PGlite is a single-process engine: two processes on one data directory corrupt it. proper-lockfile
 * takes the lock atomically (mkdir) and keeps it fresh, so a crashed holder's lock goes stale and
 * is taken over, while a live one is never stolen. Resolves to the release function.
 */
export async function lockDataDirectory(dataDir: string): Promise<() => Promise<void>> {
  mkdirSync(dataDir, { recursive: true });
  const holderFile = join(dataDir, 'relais.lock.holder');
  try {
    const release = await lockfile.lock(dataDir, {
      lockfilePath: join(dataDir, 'relais.lock'),
      realpath: false,
      stale: STALE_MS,
      update: REFRESH_MS,
      retries: 0,
      onCompromised: (error) => {
        // Someone else now holds the directory: writing on would corrupt it. Stop at once.
        process.stderr.write(`relais: lost the lock on the embedded database ${dataDir} (${error.message}); stopping\n`);
        process.exit(70);
      },
    });
    writeFileSync(holderFile, String(process.pid));
    return release;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ELOCKED') throw error;
    let holder = 'another process';
    try {
      const pid = Number.parseInt(readFileSync(holderFile, 'utf8'), 10);
      // An empty or half-written file (the holder is writing its pid now) names nobody.
      if (Number.isInteger(pid) && pid > 0) holder = `process ${pid}`;
    } catch {
      // The holder has not written its pid yet: the generic wording stays.
    }
    throw new DatabaseSetupError(
      `The embedded database in ${dataDir} is in use by ${holder}. Stop that process, ` +
        'or set DATABASE_URL to use PostgreSQL, which many processes can share.',
    );
  }
}
