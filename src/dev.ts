/**
 * `npm run dev`: the whole job on one machine with embedded defaults. It
 * starts (or reuses) a Temporal dev server, the worker, the Gmail sandbox and
 * the API, with the sandbox pushing to the API, and runs until Ctrl-C.
 */
import { devApiConfig, devApiToken, devBanner, devCredentialConfig, startDevSandbox } from './api/dev-support';
import { runApi } from './api/run-api';
import { withDevPayloadEncryptionDefault } from './codec/codec-settings';
import { createDataConverter } from './codec/data-converter';
import { ConfigError, loadConfig, type Config } from './config';
import { createCredentialProviders, openTokenStore, requireCredentialSettings } from './credentials/credential-config';
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

  // 2. The Gmail sandbox, pushing to the API, unless GMAIL_SYNC_GMAIL_API_URL points at another Gmail API.
  //    The Google endpoints and credentials that the environment leaves unset point at the sandbox.
  const apiUrl = `http://${config.apiHost}:${config.apiPort}`;
  let sandbox: Sandbox | undefined;
  let devConfig: Config = config;
  if (config.credentialProvider === 'sandbox' || !config.env.GMAIL_SYNC_GMAIL_API_URL) {
    sandbox = await startDevSandbox(config, apiUrl, logger);
    devConfig = devCredentialConfig({ ...config, gmailSandboxUrl: sandbox.url }, sandbox, apiUrl);
  }

  // 3. The token store and the Gmail providers, shared by the worker and the API of this process.
  requireCredentialSettings(devConfig, 'api');
  const tokens = await openTokenStore(devConfig);
  const providers = createCredentialProviders(devConfig, tokens);

  // 4. Worker on the gmail-sync task queue.
  const connection = await connectWorker(devConfig);
  const temporal = await connectClient(devConfig);
  const worker = await createWorker({ connection, config: devConfig, client: temporal.client, gmail: providers.gmail });

  // 5. API, trusting the sandbox's push signing key in this mode only.
  const { token, file: tokenFile } = devApiToken(devConfig);
  const api = await runApi(devApiConfig(devConfig, token, sandbox), logger, { tokens, providers });
  // The handlers stay installed: a second Ctrl-C during the drain would otherwise end Node by
  // its default action, which skips the exit hook and leaves the detached dev server running.
  const stop = (signal: NodeJS.Signals): void => {
    logger.info({ signal, graceSeconds: config.shutdownGraceSeconds }, 'stopping: the worker and the API finish running work first');
    api.server.startDraining();
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  // Closing the terminal sends SIGHUP, which would end Node at once and leave the
  // detached dev server running. So SIGHUP takes the same orderly path as SIGTERM.
  process.once('SIGHUP', () => process.kill(process.pid, 'SIGTERM'));

  logger.info(
    {
      api: api.url,
      sandbox: sandbox?.url ?? null,
      temporal: server.address,
      taskQueue: config.taskQueue,
      payloadEncryption: config.payloadEncryption,
      credentialProvider: devConfig.credentialProvider,
      tokenStore: tokens ? devConfig.tokenStore : null,
    },
    'gmail-sync dev is running; press Ctrl-C to stop',
  );
  process.stdout.write(
    devBanner({
      apiUrl: api.url,
      sandboxUrl: sandbox?.url,
      uiUrl: server.uiUrl ?? '(reused server; open its own UI)',
      temporal: server.address,
      token,
      tokenFile,
      credentialProvider: devConfig.credentialProvider,
    }),
  );

  // 6. Ctrl-C: Temporal's runtime drains the worker; then the API, the token store, the sandbox and the dev server stop.
  await worker.run();
  await api.close();
  await tokens?.close();
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
