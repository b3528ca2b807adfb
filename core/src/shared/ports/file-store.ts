import { AppError } from '../app-error.js';

/**
 * Where core keeps files it produces (invoice PDFs, exports). Object-storage semantics: a key
 * names one immutable-ish blob with the content type it was stored with. Implemented on local
 * disk (core/src/shared/file-store/) and, later, on S3-compatible storage.
 */
export interface StoredFile {
  bytes: Buffer;
  contentType: string;
}

export interface FileStore {
  /** Stores `bytes` under `key`, replacing what was there; readers see the old or the new file, never a part. */
  put(key: string, bytes: Buffer, contentType: string): Promise<void>;
  /** undefined when nothing is stored under `key`. */
  get(key: string): Promise<StoredFile | undefined>;
  /** Idempotent: deleting a missing key is not an error. */
  delete(key: string): Promise<void>;
}

const MAX_KEY_LENGTH = 512;
/**
 * One path segment: starts with a letter, digit or underscore (so never "." or "..", never a
 * hidden file), then letters, digits, dot, underscore, dash. Anything else — "/" at either end,
 * "//", backslashes, NUL, spaces, non-ASCII — is refused rather than escaped.
 */
const SEGMENT_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;
/** Suffix the local-disk adapter uses for its content-type sidecars; no key may end with it. */
export const FILE_STORE_RESERVED_SUFFIX = '.meta.json';

/**
 * Checks that `key` is a relative path of safe segments, the same rule for every adapter so a key
 * valid on disk is valid on object storage. Throws VALIDATION_FAILED otherwise.
 */
export function assertFileKey(key: string): string[] {
  const refuse = (why: string): never => {
    throw new AppError('VALIDATION_FAILED', `file key ${JSON.stringify(key.slice(0, 80))}: ${why}`);
  };
  if (typeof key !== 'string' || key.length === 0) refuse('must not be empty');
  if (key.length > MAX_KEY_LENGTH) refuse(`must be at most ${MAX_KEY_LENGTH} characters`);
  if (key.endsWith(FILE_STORE_RESERVED_SUFFIX)) refuse(`must not end with ${FILE_STORE_RESERVED_SUFFIX}`);
  const segments = key.split('/');
  for (const segment of segments) {
    if (!SEGMENT_PATTERN.test(segment)) {
      refuse('must be a relative path of segments made of letters, digits, ".", "_" and "-" (no "..", no leading "/" or ".")');
    }
  }
  return segments;
}
