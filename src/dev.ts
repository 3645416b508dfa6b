/**
 * `npm run dev`: the whole job on one machine with embedded defaults. It
 * starts (or reuses) a Temporal dev server, the worker, the Gmail sandbox and
 * the API, with the sandbox pushing to the API, and runs until Ctrl-C.
 */
import { devApiConfig, devApiToken, devBanner, startDevSandbox } from './api/dev-support';
import { runApi } from './api/run-api';
import { withDevPayloadEncryptionDefault } from './codec/codec-settings';
import { createDataConverter } from './codec/data-converter';
import { ConfigError, loadConfig } from './config';
import { createLogger } from './logger';
import { installWorkerMetrics } from './metrics/worker-metrics';
import { provisionTemporalCli } from './provision/temporal-cli';
import type { Sandbox } from './sandbox';
import { connectClient, connectWorker } from './temporal/connection';
import { startDevServer } from './temporal/dev-server';
import { createWorker } from './worker';

async function main(): Promise<void> {
  const config = loadConfig(withDevPayloadEncryptionDefault(process.env));
  const logger = createLogger(config, 'gmail-sync-dev');
  // Rejects encryption without keys before any server starts.
  createDataConverter(config);
  installWorkerMetrics(config);

  // 1. Temporal: reuse a running server or start the dev server with its SQLite file.
  const cli = await provisionTemporalCli();
  const server = await startDevServer(config, cli, logger);

  // 2. The Gmail sandbox, pushing to the API, when mailboxes use sandbox credentials.
  const apiUrl = `http://${config.apiHost}:${config.apiPort}`;
  let sandbox: Sandbox | undefined;
  if (config.credentialProvider === 'sandbox') {
    sandbox = await startDevSandbox(config, apiUrl, logger);
  }

  // 3. Worker on the gmail-sync task queue.
  const connection = await connectWorker(config);
  const temporal = await connectClient(config);
  const worker = await createWorker({ connection, config: sandbox ? { ...config, gmailSandboxUrl: sandbox.url } : config, client: temporal.client });

  // 4. API, trusting the sandbox's push signing key in this mode only.
  const { token, file: tokenFile } = devApiToken(config);
  const api = await runApi(devApiConfig(config, token, sandbox), logger);
  process.once('SIGINT', () => api.server.startDraining());
  process.once('SIGTERM', () => api.server.startDraining());
  // Closing the terminal sends SIGHUP, which would end Node at once and leave the
  // detached dev server running. So SIGHUP takes the same orderly path as SIGTERM.
  process.once('SIGHUP', () => process.kill(process.pid, 'SIGTERM'));

  logger.info(
    { api: api.url, sandbox: sandbox?.url ?? null, temporal: server.address, taskQueue: config.taskQueue, payloadEncryption: config.payloadEncryption },
    'gmail-sync dev is running; press Ctrl-C to stop',
  );
  process.stdout.write(
    devBanner({ apiUrl: api.url, sandboxUrl: sandbox?.url, uiUrl: server.uiUrl ?? '(reused server; open its own UI)', temporal: server.address, token, tokenFile }),
  );

  // 5. Ctrl-C: Temporal's runtime drains the worker; then the API, the sandbox and the dev server stop.
  await worker.run();
  await api.close();
  await sandbox?.stop();
  await connection.close();
  await temporal.connection.close();
  await server.stop();
  logger.info('gmail-sync dev stopped');
}

main().catch((error: unknown) => {
  const message = error instanceof ConfigError || error instanceof Error ? error.message : String(error);
  process.stderr.write(`gmail-sync dev failed: ${message}\n`);
  process.exit(1);
});
