/**
 * Runs the gmail-sync API (management routes, Pub/Sub push endpoint and, when
 * GMAIL_SYNC_PULL_SUBSCRIPTION is set, the pull subscriber) as its own
 * process until SIGINT or SIGTERM.
 */
import { runApi } from './api/run-api';
import { ConfigError, loadConfig } from './config';
import { createLogger } from './logger';

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config, 'gmail-sync-api');
  const api = await runApi(config, logger);

  const shutdown = (signal: NodeJS.Signals): void => {
    logger.info({ signal }, 'shutting down');
    api.close().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

main().catch((error: unknown) => {
  const message = error instanceof ConfigError || error instanceof Error ? error.message : String(error);
  process.stderr.write(`gmail-sync api failed to start: ${message}\n`);
  process.exit(1);
});
