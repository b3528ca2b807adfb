import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { AppError } from '../app-error.js';
import { assertFileKey, FILE_STORE_RESERVED_SUFFIX, type FileStore, type StoredFile } from '../ports/file-store.js';

const CONTENT_TYPE_PATTERN = /^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*\/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*(?:\s*;\s*[\x20-\x7e]*)?$/;
const FALLBACK_CONTENT_TYPE = 'application/octet-stream';
const sidecarSchema = z.object({ contentType: z.string().regex(CONTENT_TYPE_PATTERN) });

/**
 * FileStore on a local directory: `<root>/<key>` holds the bytes exactly as given (open it with
 * any viewer, back it up with rsync), `<root>/<key>.meta.json` holds `{ "contentType": ... }`.
 *
 * Why a sidecar rather than deriving the type from the extension: the port promises to return
 * the content type `put` was given, as object storage does; an extension table would either
 * refuse keys it does not know or return a type nobody stored. Keys may not end in ".meta.json",
 * so a sidecar never shadows a file.
 *
 * Atomicity: each file is written to a temporary sibling (a name starting with ".", which no key
 * segment may) then renamed over the target, so readers never see half a file. The sidecar is
 * written first and the data file second; the data file alone decides whether a key exists,
 * and a crash between the two leaves at worst a sidecar without data, which `get` ignores.
 */
export function createLocalDiskFileStore(rootDirectory: string): FileStore {
  const root = path.resolve(rootDirectory);

  function locate(key: string): string {
    const segments = assertFileKey(key);
    const target = path.resolve(root, ...segments);
    // Defence in depth: the key rules already exclude every way out of the root.
    if (!target.startsWith(root + path.sep)) {
      throw new AppError('VALIDATION_FAILED', `file key ${JSON.stringify(key)} leaves the store`);
    }
    return target;
  }

  return {
    async put(key, bytes, contentType) {
      const target = locate(key);
      if (contentType.length > 255 || !CONTENT_TYPE_PATTERN.test(contentType)) {
        throw new AppError('VALIDATION_FAILED', `content type ${JSON.stringify(contentType.slice(0, 80))} is not a media type`);
      }
      await mkdir(path.dirname(target), { recursive: true });
      await writeAtomically(target + FILE_STORE_RESERVED_SUFFIX, Buffer.from(JSON.stringify({ contentType })));
      await writeAtomically(target, bytes);
    },

    async get(key) {
      const target = locate(key);
      const bytes = await readIfExists(target);
      if (!bytes) return undefined;
      const sidecar = await readIfExists(target + FILE_STORE_RESERVED_SUFFIX);
      const parsed = sidecar ? sidecarSchema.safeParse(safeJson(sidecar)) : undefined;
      const file: StoredFile = { bytes, contentType: parsed?.success ? parsed.data.contentType : FALLBACK_CONTENT_TYPE };
      return file;
    },

    async delete(key) {
      const target = locate(key);
      // Data first: once it is gone the key no longer exists, whatever happens to the sidecar.
      await rm(target, { force: true });
      await rm(target + FILE_STORE_RESERVED_SUFFIX, { force: true });
    },
  };
}

async function writeAtomically(target: string, bytes: Buffer): Promise<void> {
  const temporary = path.join(path.dirname(target), `.${path.basename(target)}.${randomBytes(6).toString('hex')}.tmp`);
  const handle = await open(temporary, 'wx', 0o640);
  try {
    await handle.writeFile(bytes);
    // Flushed before the rename, or a crash could leave the new name pointing at empty blocks.
    await handle.sync();
  } catch (error) {
    await handle.close();
    await rm(temporary, { force: true });
    throw error;
  }
  await handle.close();
  try {
    await rename(temporary, target);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}

async function readIfExists(file: string): Promise<Buffer | undefined> {
  try {
    return await readFile(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    // ENOTDIR: a prefix of the key is a file, so nothing can be stored under it.
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw error;
  }
}

function safeJson(bytes: Buffer): unknown {
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch {
    return undefined;
  }
}
