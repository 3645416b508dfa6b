/**
 * Runs the API as a process part: connects to Temporal, builds the server,
 * listens, starts the pull subscriber when one is configured, and shuts all
 * of it down in order. `npm run api` and `npm run dev` both use it.
 */
import type { Connection } from '@temporalio/client';

import type { Config } from '../config';
import { createGmailProvider, createSandboxGmailProvider, resolveMailboxAddress } from '../gmail';
import { startPullSubscriber, type PullSubscriber } from '../ingest/pull-subscriber';
import type { Logger } from '../logger';
import { connectClient } from '../temporal/connection';
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

export async function runApi(config: Config, logger: Logger): Promise<RunningApi> {
  // 1. Settings without which the API must not start, then Temporal.
  requireApiSettings(config);
  const { client, connection } = await connectClient(config);

  // 2. The server, keying new mailboxes by the address Gmail's getProfile returns.
  const gmail = createGmailProvider({ sandbox: createSandboxGmailProvider(config.gmailSandboxUrl) });
  const server = await buildApiServer({
    config,
    client,
    logger,
    mailboxDefaults: { topicName: config.watchTopic, credential: { provider: config.credentialProvider } },
    resolveMailboxAddress: (emailAddress, credential) => resolveMailboxAddress(gmail, emailAddress, credential),
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
  return { url, server, close: () => closeApi(server, pull, connection, config, logger) };
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
