import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DatabaseSetupError } from '@relais/db';
import { lockDataDirectory } from '../src/embedded-lock.js';

const LOCK_MODULE = new URL('../src/embedded-lock.ts', import.meta.url).pathname;

/** Tries to take the lock from a separate process; resolves to what it printed. */
function lockFromAnotherProcess(dataDir: string): Promise<string> {
  const script = `import { lockDataDirectory } from ${JSON.stringify(LOCK_MODULE)};
    try { const release = await lockDataDirectory(${JSON.stringify(dataDir)}); console.log('locked'); await release(); }
    catch (error) { console.log(error.message); }`;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (chunk) => (out += chunk));
    child.on('error', reject);
    child.on('close', () => resolve(out.trim()));
  });
}

describe('embedded database lock', () => {
  const root = mkdtempSync(join(tmpdir(), 'relais-lock-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('lets exactly one of several processes racing for a directory hold it', async () => {
    const dataDir = join(root, 'race');
    const results = await Promise.all(Array.from({ length: 5 }, () => lockFromAnotherProcess(dataDir)));
    // A winner releases at once, so a later starter may win too; never two at the same time is
    // checked below. Here: everyone either locked or was told who holds it.
    for (const result of results) expect(result).toMatch(/^locked$|is in use by (process \d+|another process)/);
    expect(results.filter((r) => r === 'locked').length).toBeGreaterThanOrEqual(1);
  });

  it('refuses a second holder while the first is alive, naming it, and frees on release', async () => {
    const dataDir = join(root, 'held');
    const release = await lockDataDirectory(dataDir);
    expect(await lockFromAnotherProcess(dataDir)).toBe(`The embedded database in ${dataDir} is in use by process ${process.pid}. Stop that process, or set DATABASE_URL to use PostgreSQL, which many processes can share.`);
    await expect(lockDataDirectory(dataDir)).rejects.toThrow(DatabaseSetupError);
    await release();
    expect(await lockFromAnotherProcess(dataDir)).toBe('locked');
  });
});
