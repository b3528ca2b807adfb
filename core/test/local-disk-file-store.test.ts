import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../src/shared/app-error.js';
import { createLocalDiskFileStore } from '../src/shared/file-store/local-disk-file-store.js';
import type { FileStore } from '../src/shared/ports/file-store.js';

async function listTree(directory: string): Promise<string[]> {
  const entries = await readdir(directory, { recursive: true, withFileTypes: true });
  return entries.filter((entry) => entry.isFile()).map((entry) => path.relative(directory, path.join(entry.parentPath, entry.name))).sort();
}

describe('createLocalDiskFileStore', () => {
  let sandbox: string;
  let root: string;
  let store: FileStore;

  beforeAll(async () => {
    // The store's root sits inside a sandbox, so an escape would land in the sandbox, where we look.
    sandbox = await mkdtemp(path.join(tmpdir(), 'relais-file-store-'));
    root = path.join(sandbox, 'store');
    store = createLocalDiskFileStore(root);
  });
  afterAll(async () => rm(sandbox, { recursive: true, force: true }));

  it('stores bytes with their content type, overwrites, and deletes idempotently', async () => {
    const key = 'invoices/7d3f0c52/RLS-2026-000001.pdf';
    expect(await store.get(key)).toBeUndefined();

    await store.put(key, Buffer.from('%PDF-1.3 first'), 'application/pdf');
    expect(await store.get(key)).toEqual({ bytes: Buffer.from('%PDF-1.3 first'), contentType: 'application/pdf' });

    await store.put(key, Buffer.from('second'), 'text/plain; charset=utf-8');
    expect(await store.get(key)).toEqual({ bytes: Buffer.from('second'), contentType: 'text/plain; charset=utf-8' });

    await store.delete(key);
    expect(await store.get(key)).toBeUndefined();
    await expect(store.delete(key)).resolves.toBeUndefined();
    expect(await listTree(root)).toEqual([]);
  });

  it('keeps the file on disk as given, its content type in a sidecar, and no temporary file', async () => {
    await store.put('exports/a.csv', Buffer.from('a,b\n1,2\n'), 'text/csv');
    expect(await listTree(root)).toEqual(['exports/a.csv', 'exports/a.csv.meta.json']);
  });

  it('falls back to application/octet-stream when the sidecar is missing or unreadable', async () => {
    await writeFile(path.join(root, 'orphan.bin'), 'x');
    expect((await store.get('orphan.bin'))!.contentType).toBe('application/octet-stream');
    await writeFile(path.join(root, 'orphan.bin.meta.json'), '{not json');
    expect((await store.get('orphan.bin'))!.contentType).toBe('application/octet-stream');
  });

  it('leaves one whole version when writers race on a key', async () => {
    const versions = Array.from({ length: 12 }, (_, i) => Buffer.alloc(64 * 1024, i));
    await Promise.all(versions.map((bytes) => store.put('race/file.bin', bytes, 'application/octet-stream')));
    const stored = (await store.get('race/file.bin'))!.bytes;
    expect(versions.some((bytes) => bytes.equals(stored))).toBe(true);
    expect((await listTree(path.join(root, 'race'))).filter((name) => name.endsWith('.tmp'))).toEqual([]);
  });

  it.each([
    ['parent directory', '../escape.txt'],
    ['parent directory inside', 'invoices/../../escape.txt'],
    ['a lone dot-dot', '..'],
    ['a current directory segment', 'invoices/./a.pdf'],
    ['absolute path', '/etc/passwd'],
    ['absolute path to the sandbox', '/tmp/escape.txt'],
    ['backslash', 'invoices\\..\\..\\escape.txt'],
    ['NUL byte', 'invoices/a.pdf\0.txt'],
    ['empty key', ''],
    ['empty segment', 'invoices//a.pdf'],
    ['trailing slash', 'invoices/'],
    ['hidden file', 'invoices/.a.pdf'],
    ['the sidecar suffix', 'invoices/a.pdf.meta.json'],
    ['a space', 'invoices/a b.pdf'],
    ['non-ASCII', 'factures/relevé.pdf'],
    ['a Windows drive', 'C:/escape.txt'],
  ])('refuses a key with %s, for put, get and delete', async (_why, key) => {
    for (const attempt of [
      () => store.put(key, Buffer.from('x'), 'text/plain'),
      () => store.get(key),
      () => store.delete(key),
    ]) {
      const error = await attempt().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(AppError);
      expect((error as AppError).code).toBe('VALIDATION_FAILED');
    }
    const outside = (await listTree(sandbox)).filter((file) => !file.startsWith(`store${path.sep}`));
    expect(outside).toEqual([]);
  });

  it('refuses a content type that is not a media type', async () => {
    for (const contentType of ['', 'pdf', 'text/plain\r\nX-Injected: 1', 'a/b/c']) {
      await expect(store.put('ok.txt', Buffer.from('x'), contentType)).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    }
    expect(await store.get('ok.txt')).toBeUndefined();
  });
});
