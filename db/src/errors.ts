/** A database set-up problem a person must fix; its message says what and how. */
export class DatabaseSetupError extends Error {
  override name = 'DatabaseSetupError';
}
