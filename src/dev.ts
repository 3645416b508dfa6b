/**
 * `npm run dev`: the whole job on one machine with embedded defaults. It
 * starts (or reuses) a Temporal dev server and runs the worker until Ctrl-C.
 */
import { ConfigError, loadConfig } from './config';
import { createLogger } from './logger';
import { provisionTemporalCli } from './provision/temporal-cli';
import { connectWorker } from './temporal/connection';
import { startDevServer } from './temporal/dev-server';
import { createWorker } from './worker';

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config, 'gmail-sync-dev');

  // 1. Temporal: reuse a running server or start the dev server with its SQLite file.
  const cli = await provisionTemporalCli();
  const server = await startDevServer(config, cli, logger);

  // 2. Worker on the gmail-sync task queue.
  const connection = await connectWorker(config);
  const worker = await createWorker({ connection, config });

  logger.info(
    { temporal: server.address, ui: server.uiUrl ?? 'the UI of the reused server', taskQueue: config.taskQueue },
    'gmail-sync dev is running; press Ctrl-C to stop',
  );
  process.stdout.write(`\n  Temporal UI: ${server.uiUrl ?? '(reused server; open its own UI)'}\n  Temporal:    ${server.address}\n\n`);

  // 3. Ctrl-C: Temporal's runtime drains the worker, then the dev server stops.
  await worker.run();
  await connection.close();
  await server.stop();
  logger.info('gmail-sync dev stopped');
}

main().catch((error: unknown) => {
  const message = error instanceof ConfigError || error instanceof Error ? error.message : String(error);
  process.stderr.write(`gmail-sync dev failed: ${message}\n`);
  process.exit(1);
});
