import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from './helpers.js';

const CHILD = fileURLToPath(new URL('./fixtures/shutdown-child.ts', import.meta.url));
const children: ChildProcess[] = [];

/** Starts the fixture in a real process (signals cannot be tested in-process without exiting vitest). */
async function startChild(mode: 'close-finishes' | 'close-hangs') {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, mode], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  await waitFor('the child to be ready', () => output.includes('ready\n'));
  return { child, exited, output: () => output };
}

afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
});

describe('onShutdownSignals', () => {
  it('on SIGTERM runs close once, waits for it, and exits 0', async () => {
    const { child, exited, output } = await startChild('close-finishes');
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(output()).toBe('ready\nclose called\nclose finished\n');
  });

  it('on SIGINT does the same', async () => {
    const { child, exited, output } = await startChild('close-finishes');
    child.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(output()).toBe('ready\nclose called\nclose finished\n');
  });

  it('exits 1 at once on a second signal while close is still running', async () => {
    const { child, exited, output } = await startChild('close-hangs');
    child.kill('SIGTERM');
    await waitFor('close to be called', () => output().includes('close called'));
    child.kill('SIGTERM');
    expect(await exited).toBe(1);
    expect(output()).toBe('ready\nclose called\n');
  });
});
