/** A database set-up problem a person must fix; its message says what and how. */
export class DatabaseSetupError extends Error {
  override name = 'DatabaseSetupError';
}

/**
 * The constraint a unique violation hit, or undefined for any other error. Looks through
 * drizzle's wrapper to the driver error (node-postgres and PGlite both carry code + constraint).
 */
export function violatedUniqueConstraint(error: unknown): string | undefined {
  for (let current = error; current; current = (current as { cause?: unknown }).cause) {
    const { code, constraint } = current as { code?: string; constraint?: string };
    if (code === '23505') return constraint ?? 'unknown';
  }
  return undefined;
}
