/**
 * Runs a gmail-sync worker against the Temporal server in TEMPORAL_ADDRESS
 * until SIGINT or SIGTERM.
 */
import { createDataConverter } from './codec/data-converter';
import { loadConfig } from './config';
import { openTokenStore, requireCredentialSettings } from './credentials/credential-config';
import { createLogger } from './logger';
import { installWorkerMetrics } from './metrics/worker-metrics';
import { connectClient, connectWorker } from './temporal/connection';
import { createWorker } from './worker';

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config, 'gmail-sync-worker');
  installWorkerMetrics(config);
  // Rejects encryption without keys before connecting, so that error is the one reported.
  createDataConverter(config);
  requireCredentialSettings(config, 'worker');
  const tokens = await openTokenStore(config);
  const connection = await connectWorker(config);
  // The sync activities start deliveryWorkflows through this client.
  const temporal = await connectClient(config);
  const worker = await createWorker({ connection, config, client: temporal.client, tokens });

  logger.info(
    { address: config.temporalAddress, namespace: config.temporalNamespace, taskQueue: config.taskQueue, credentialProvider: config.credentialProvider, tokenStore: tokens ? config.tokenStore : null },
    'worker started',
  );
  await worker.run();
  await connection.close();
  await temporal.connection.close();
  await tokens?.close();
  logger.info('worker stopped');
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
