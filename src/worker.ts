import type { Client } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';

import { createDataConverter } from './codec/data-converter';
import type { Config } from './config';
import { createActivities, type Delivery } from '../activities';
import { deliveryConfigFrom } from './delivery/targets';
import { createWorkflowTargetClient } from './temporal/connection';
import { createCredentialProviders } from './credentials/credential-config';
import type { TokenStore } from './credentials/token-store';
import type { GmailProvider } from './gmail';

export interface WorkerOptions {
  connection: NativeConnection;
  config: Config;
  /** Gmail clients for the activities; defaults to the providers that the credential settings configure. */
  gmail?: GmailProvider;
  /** Refresh tokens of `oauth` credentials, for the default Gmail providers; see openTokenStore. */
  tokens?: TokenStore;
  /** One delivery target for every mailbox, for tests; by default each mailbox's delivery options choose it. */
  delivery?: Delivery;
  /**
   * Client that the sync activities start deliveryWorkflows with, built by
   * `createClient` so payloads are encoded like the worker's. Without it a
   * sync whose delivery fails throws and the `workflow` target is unusable.
   * The `workflow` target starts the user's workflows through a second
   * client on the same connection, with the converter that
   * GMAIL_SYNC_WORKFLOW_TARGET_ENCRYPTION chooses.
   */
  client?: Client;
  /** Overrides the product activities, for tests that replace one with a failing version. */
  activities?: object;
  /** Workflow interceptor modules bundled with the workflows, for tests that shorten a timeout. */
  workflowInterceptorModules?: string[];
}

/**
 * Creates the worker that runs gmail-sync's workflows and activities on the
 * configured task queue. Temporal's runtime shuts it down on SIGINT and
 * SIGTERM: it stops polling, lets running activities finish within the grace
 * time, and then `run()` resolves. Payloads are encrypted when payload
 * encryption is on, and a ConfigError is thrown when it is on without keys.
 */
export async function createWorker(options: WorkerOptions): Promise<Worker> {
  const { config } = options;
  const activities =
    options.activities ??
    createActivities({
      gmail: options.gmail ?? createCredentialProviders(config, options.tokens).gmail,
      delivery: options.delivery,
      deliveryConfig: deliveryConfigFrom(config, config.env),
      temporal: options.client && {
        client: options.client,
        taskQueue: config.taskQueue,
        workflowTargetClient: createWorkflowTargetClient(options.client.connection, config),
      },
    });

  return Worker.create({
    connection: options.connection,
    namespace: config.temporalNamespace,
    taskQueue: config.taskQueue,
    workflowsPath: require.resolve('../workflows'),
    interceptors: options.workflowInterceptorModules && { workflowModules: options.workflowInterceptorModules },
    activities,
    dataConverter: createDataConverter(config),
    maxConcurrentActivityTaskExecutions: config.activityConcurrency,
    maxConcurrentLocalActivityExecutions: config.localActivityConcurrency,
    maxTaskQueueActivitiesPerSecond: config.activitiesPerSecond,
    shutdownGraceTime: `${config.shutdownGraceSeconds}s`,
  });
}
