import pino, { type Logger } from 'pino';

/** Paths pino blanks out wherever they appear in a log line. */
export const REDACTED_PATHS = [
  // pino's `*` matches one level only: list the top level and the usual nestings explicitly.
  ...['password', 'passwordHash', 'oneTimePassword', 'token', 'secret', 'apiKey', 'appKey', 'url', 'ownerUrl', 'redisUrl', 'webhookKey', 'credentials'].flatMap(
    (key) => [key, `*.${key}`, `*.*.${key}`],
  ),
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-telegram-bot-api-secret-token"]',
  'req.headers["x-hub-signature-256"]',
];

/**
 * drizzle's query errors carry every bound parameter in their message (phone numbers, password
 * hashes, tokens): log the driver's cause and the SQL text, never the parameters.
 */
export function safeErrorMessage(error: unknown): string {
  if (error instanceof Error && error.name === 'DrizzleQueryError') {
    const cause = (error as { cause?: unknown }).cause;
    const query = (error as { query?: string }).query ?? '';
    return `${cause instanceof Error ? cause.message : 'query failed'} (in: ${query.slice(0, 200)})`;
  }
  return error instanceof Error ? error.message : String(error);
}

function serializeError(error: unknown) {
  const serialized = pino.stdSerializers.err(error as Error) as unknown as Record<string, unknown>;
  if (error instanceof Error && error.name === 'DrizzleQueryError') {
    delete serialized.params;
    serialized.message = safeErrorMessage(error);
    serialized.stack = undefined;
  }
  return serialized;
}

export function createLogger(options: { level: string; name?: string }): Logger {
  return pino({
    name: options.name ?? 'relais',
    level: options.level,
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    serializers: { err: serializeError, error: serializeError },
    base: { pid: process.pid },
  });
}
