/**
 * Runs the API as a process part: connects to Temporal, builds the server,
 * listens, starts the pull subscriber when one is configured, and shuts all
 * of it down in order. `npm run api` and `npm run dev` both use it.
 */
import type { Connection } from '@temporalio/client';

import type { Config } from '../config';
import { createCredentialProviders, openTokenStore, requireCredentialSettings, type CredentialProviders } from '../credentials/credential-config';
import type { TokenStore } from '../credentials/token-store';
import { resolveMailboxAddress } from '../gmail';
import { startPullSubscriber, type PullSubscriber } from '../ingest/pull-subscriber';
import type { Logger } from '../logger';
import { connectClient } from '../temporal/connection';
import { consentFlowFromConfig } from './oauth/consent-flow';
import { buildApiServer, requireApiSettings, type ApiServer } from './server';

export interface RunningApi {
  /** Base URL, for example http://127.0.0.1:3000. */
  url: string;
  server: ApiServer;
  /**
   * Shuts down in order: pushes get 503 and /readyz reports not ready, the
   * pull subscriber finishes its messages, the server stops accepting and
   * waits for requests in flight (up to the grace time), and the Temporal
   * connection closes.
   */
  close(): Promise<void>;
}

/** The token store and Gmail providers of a process that runs the API and the worker together, shared by both. */
export interface SharedCredentials {
  tokens: TokenStore | undefined;
  providers: CredentialProviders;
}

/**
 * Runs the API. Without `shared`, it opens the configured token store itself
 * and closes it on close; with it (`npm run dev`), the caller owns the store.
 */
export async function runApi(config: Config, logger: Logger, shared?: SharedCredentials): Promise<RunningApi> {
  // 1. Settings without which the API must not start, the token store, then Temporal.
  requireApiSettings(config);
  requireCredentialSettings(config, 'api');
  const tokens = shared ? shared.tokens : await openTokenStore(config);
  const providers = shared?.providers ?? createCredentialProviders(config, tokens);
  const { client, connection } = await connectClient(config);

  // 2. The server, keying new mailboxes by the address Gmail's getProfile returns.
  const server = await buildApiServer({
    config,
    client,
    logger,
    mailboxDefaults: { topicName: config.watchTopic, credential: { provider: config.credentialProvider } },
    resolveMailboxAddress: (emailAddress, credential) => resolveMailboxAddress(providers.gmail, emailAddress, credential),
    consentFlow: consentFlowFromConfig(config, tokens),
    onGrantStored: (emailAddress) => providers.oauth?.forget(emailAddress),
  });
  const url = await server.app.listen({ host: config.apiHost, port: config.apiPort });

  // 3. Pull, when a subscription is configured, through the same ingest code as push.
  let pull: PullSubscriber | undefined;
  if (config.pullSubscription !== undefined) {
    pull = startPullSubscriber({
      subscriptionName: config.pullSubscription,
      ingest: server.ingest,
      logger,
      maxMessages: config.pullMaxMessages,
    });
  }

  logger.info({ url, pullSubscription: config.pullSubscription ?? null }, 'API listening');
  return {
    url,
    server,
    close: async () => {
      await closeApi(server, pull, connection, config, logger);
      if (!shared) {
        await tokens?.close();
      }
    },
  };
}

async function closeApi(server: ApiServer, pull: PullSubscriber | undefined, connection: Connection, config: Config, logger: Logger): Promise<void> {
  // 1. Stop taking work: pushes get 503 so Pub/Sub redelivers, and pulled messages are nacked.
  server.startDraining();
  logger.info({ graceSeconds: config.shutdownGraceSeconds }, 'API draining');

  // 2. Finish what is in flight, within the grace time.
  const deadline = new Promise<'timed out'>((resolve) => setTimeout(() => resolve('timed out'), config.shutdownGraceSeconds * 1000).unref());
  const drained = await Promise.race([Promise.all([pull?.close(), server.app.close()]).then(() => 'drained' as const), deadline]);
  if (drained === 'timed out') {
    logger.warn({ graceSeconds: config.shutdownGraceSeconds }, 'API requests still running after the grace time; closing the Temporal connection anyway');
  }

  // 3. Close the Temporal connection.
  await connection.close();
  logger.info('API stopped');
}
