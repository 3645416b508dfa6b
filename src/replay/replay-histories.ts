/**
 * The determinism check to run before deploying a new worker: download the
 * histories of gmail-sync's workflows from a Temporal server and replay them
 * against the workflow code at hand. A change that would break a running
 * mailbox or delivery (a command in another order, a removed timer, a new
 * activity without `patched()`) shows up as a nondeterminism error here
 * instead of in production.
 */
import { Client, WorkflowNotFoundError, type WorkflowExecutionInfo } from '@temporalio/client';
import type { HistoryAndWorkflowId } from '@temporalio/client';
import { bundleWorkflowCode, Worker } from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';

import { DELIVERY_WORKFLOW_TYPE } from '../../workflows/delivery/types';
import { silentSdkLogger } from '../logger';
import { MAILBOX_WORKFLOW_TYPE } from '../temporal/mailbox-client';
import { visibilityString } from '../temporal/visibility-query';

export interface ReplayRunningWorkflowsOptions {
  /** Client whose data converter decodes the histories' payloads; with payload encryption on it needs the keyring. */
  client: Client;
  /** Namespace to list and download from; defaults to the client's. */
  namespace?: string;
  /** Only workflows on this task queue; omitted, every task queue of the namespace. */
  taskQueue?: string;
  /** Visibility query that replaces the default one (gmail-sync's workflow types, running, on `taskQueue`). */
  query?: string;
  /** Closed executions too, as long as the namespace retains them. Ignored when `query` is set. */
  includeClosed?: boolean;
  /** Replays at most this many executions, in the order that visibility lists them. */
  limit?: number;
  /** Workflows module to replay against; defaults to gmail-sync's `workflows/`. */
  workflowsPath?: string;
  /** Receives one line per replayed execution and a summary. */
  log?: (line: string) => void;
}

export interface ReplayFailure {
  workflowId: string;
  runId: string;
  /** True for a nondeterminism error, false for another replay failure such as a workflow task that throws. */
  nondeterministic: boolean;
  error: string;
}

export interface ReplayRunningWorkflowsResult {
  /** Executions whose history was replayed, with or without an error. */
  replayed: number;
  failures: ReplayFailure[];
  /** Executions that visibility listed but whose history was gone by the time it was downloaded. */
  skipped: Array<{ workflowId: string; runId: string }>;
}

const WORKFLOW_TYPES = [MAILBOX_WORKFLOW_TYPE, DELIVERY_WORKFLOW_TYPE];

/** Builds the default visibility query: gmail-sync's workflow types, running unless `includeClosed`, on `taskQueue` when given. */
export function replayQuery(options: { taskQueue?: string; includeClosed?: boolean }): string {
  const clauses = [`WorkflowType IN (${WORKFLOW_TYPES.map(visibilityString).join(', ')})`];
  if (!options.includeClosed) {
    clauses.push(`ExecutionStatus = 'Running'`);
  }
  if (options.taskQueue !== undefined) {
    clauses.push(`TaskQueue = ${visibilityString(options.taskQueue)}`);
  }
  return clauses.join(' AND ');
}

/**
 * Replays the histories of gmail-sync's workflows that visibility lists
 * against the current workflow code, bundled once. Each history is downloaded
 * when the replay worker takes the next one, so memory keeps about one
 * history at a time, not all of them. Throws when Temporal cannot be reached;
 * a history that fails to replay is returned in `failures`, not thrown.
 */
export async function replayRunningWorkflows(options: ReplayRunningWorkflowsOptions): Promise<ReplayRunningWorkflowsResult> {
  const log = options.log ?? (() => undefined);
  const client = clientFor(options.client, options.namespace);
  const query = options.query ?? replayQuery(options);

  // 1. List the executions first, so that progress can show "n of N".
  const executions = await listExecutions(client, query, options.limit);
  log(`found ${executions.length} workflow execution(s) in namespace ${client.options.namespace} matching: ${query}`);
  const result: ReplayRunningWorkflowsResult = { replayed: 0, failures: [], skipped: [] };
  if (executions.length === 0) {
    return result;
  }

  // 2. Bundle the workflow code once.
  const workflowBundle = await bundleWorkflowCode({
    workflowsPath: options.workflowsPath ?? require.resolve('../../workflows'),
    logger: silentSdkLogger,
  });

  // 3. Replay each history as it arrives.
  const total = executions.length;
  const histories = downloadHistories(client, executions, (skipped) => {
    result.skipped.push(skipped);
    log(`[${result.replayed + result.skipped.length}/${total}] ${skipped.workflowId} (run ${skipped.runId}): skipped, its history is gone`);
  });
  const replays = Worker.runReplayHistories({ workflowBundle, dataConverter: client.options.dataConverter }, histories);
  for await (const replay of replays) {
    result.replayed += 1;
    const position = `[${result.replayed + result.skipped.length}/${total}] ${replay.workflowId} (run ${replay.runId})`;
    if (replay.error === undefined) {
      log(`${position}: ok`);
      continue;
    }
    const nondeterministic = replay.error instanceof DeterminismViolationError;
    result.failures.push({ workflowId: replay.workflowId, runId: replay.runId, nondeterministic, error: replay.error.message });
    log(`${position}: FAILED, ${nondeterministic ? 'nondeterminism' : 'replay error'}: ${replay.error.message}`);
  }
  log(`replayed ${result.replayed} history(ies): ${result.replayed - result.failures.length} passed, ${result.failures.length} failed, ${result.skipped.length} skipped`);
  return result;
}

/** Returns the client itself, or a client on the same connection and data converter for another namespace. */
function clientFor(client: Client, namespace: string | undefined): Client {
  if (namespace === undefined || namespace === client.options.namespace) {
    return client;
  }
  return new Client({ connection: client.connection, namespace, dataConverter: client.options.dataConverter });
}

async function listExecutions(client: Client, query: string, limit: number | undefined): Promise<WorkflowExecutionInfo[]> {
  const executions: WorkflowExecutionInfo[] = [];
  if (limit !== undefined && limit <= 0) {
    return executions;
  }
  for await (const execution of client.workflow.list({ query, pageSize: 100 })) {
    executions.push(execution);
    if (limit !== undefined && executions.length >= limit) {
      break;
    }
  }
  return executions;
}

/** Downloads each history when the replay worker takes the next one; a run deleted meanwhile is reported through `onSkipped`. */
async function* downloadHistories(
  client: Client,
  executions: WorkflowExecutionInfo[],
  onSkipped: (execution: { workflowId: string; runId: string }) => void,
): AsyncGenerator<HistoryAndWorkflowId> {
  for (const { workflowId, runId } of executions) {
    try {
      const history = await client.workflow.getHandle(workflowId, runId).fetchHistory();
      yield { workflowId, history };
    } catch (error) {
      if (!(error instanceof WorkflowNotFoundError)) {
        throw error;
      }
      onSkipped({ workflowId, runId });
    }
  }
}
