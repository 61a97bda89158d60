import type { Logger } from '../log.js';

/** Waits for SIGTERM/SIGINT, then shuts the app down gracefully; a second signal forces exit. */
export function runUntilSignal(
  app: { shutdown(): Promise<void> },
  logger: Logger,
): Promise<number> {
  return new Promise((resolve) => {
    let stopping = false;
    const onSignal = (signal: NodeJS.Signals) => {
      if (stopping) {
        logger.warn('second signal; exiting now', { signal });
        resolve(1);
        return;
      }
      stopping = true;
      logger.info('draining', { signal });
      app.shutdown().then(
        () => {
          logger.info('stopped');
          process.off('SIGTERM', onSignal).off('SIGINT', onSignal);
          resolve(0);
        },
        (err: unknown) => {
          logger.error('shutdown failed', { error: err as Error });
          resolve(1);
        },
      );
    };
    process.on('SIGTERM', onSignal).on('SIGINT', onSignal);
  });
}
