import type { Logger } from 'pino';

const SHUTDOWN_SIGNALS = ['SIGTERM', 'SIGINT'] as const;

/**
 * On the first SIGTERM/SIGINT: run `close` once, then exit 0 (1 if close failed). A second signal
 * while closing exits 1 at once — the operator asked twice. Returns a function that removes the
 * handlers (for tests and for callers that install their own).
 */
export function onShutdownSignals(close: () => Promise<void>, logger: Pick<Logger, 'info' | 'error' | 'warn'>): () => void {
  let closing = false;
  const handle = (signal: NodeJS.Signals): void => {
    if (closing) {
      logger.warn({ signal }, 'second shutdown signal: exiting now');
      process.exit(1);
    }
    closing = true;
    logger.info({ signal }, 'shutting down');
    close().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: { message: (error as Error)?.message } }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  for (const signal of SHUTDOWN_SIGNALS) process.on(signal, handle);
  return () => {
    for (const signal of SHUTDOWN_SIGNALS) process.off(signal, handle);
  };
}
