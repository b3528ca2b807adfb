import { mkdirSync, openSync, readFileSync, rmSync, writeSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSetupError } from './errors.js';

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * PGlite is a single-process engine: two processes on one data directory corrupt it. Take an
 * exclusive lock file holding our pid; a lock left by a dead process is taken over.
 */
export function lockDataDirectory(dataDir: string): () => void {
  mkdirSync(dataDir, { recursive: true });
  const lockPath = join(dataDir, 'relais.lock');
  for (let attempt = 0; attempt < 2; attempt += 1) {
    try {
      const fd = openSync(lockPath, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => rmSync(lockPath, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = Number.parseInt(readFileSync(lockPath, 'utf8'), 10);
      if (Number.isInteger(holder) && isAlive(holder)) {
        throw new DatabaseSetupError(
          `The embedded database in ${dataDir} is in use by process ${holder}. Stop that process, ` +
            'or set DATABASE_URL to use PostgreSQL, which many processes can share.',
        );
      }
      rmSync(lockPath, { force: true });
    }
  }
  throw new DatabaseSetupError(`Could not lock the embedded database in ${dataDir}.`);
}
