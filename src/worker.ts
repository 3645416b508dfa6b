import { NativeConnection, Worker } from '@temporalio/worker';

import type { Config } from './config';
import * as activities from '../activities';

export interface WorkerOptions {
  connection: NativeConnection;
  config: Config;
  /** Overrides the product activities, for tests that replace one with a failing version. */
  activities?: object;
}

/**
 * Creates the worker that runs gmail-sync's workflows and activities on the
 * configured task queue. Temporal's runtime shuts it down on SIGINT and
 * SIGTERM: it stops polling, lets running activities finish within the grace
 * time, and then `run()` resolves.
 */
export async function createWorker(options: WorkerOptions): Promise<Worker> {
  return Worker.create({
    connection: options.connection,
    namespace: options.config.temporalNamespace,
    taskQueue: options.config.taskQueue,
    workflowsPath: require.resolve('../workflows'),
    activities: options.activities ?? activities,
    shutdownGraceTime: `${options.config.shutdownGraceSeconds}s`,
  });
}
