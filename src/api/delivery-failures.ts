/**
 * Failed deliveryWorkflows of a mailbox: listed from Temporal visibility and
 * rerun under the same workflow id. A rerun repeats the failed run's input,
 * which holds ids and references only, so the message is fetched again and
 * delivered with the same delivery id.
 */
import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, type Client } from '@temporalio/client';
import { TypedSearchAttributes } from '@temporalio/common';
import { decodeFromPayloadsAtIndex } from '@temporalio/common/lib/internal-non-workflow';
import { optionalTsToMs } from '@temporalio/common/lib/time';
import { temporal } from '@temporalio/proto';

import { DELIVERY_WORKFLOW_TYPE, deliveryWorkflowId, type DeliveryWorkflowInput } from '../../workflows/delivery/types';
import { GMAIL_EMAIL_ADDRESS } from '../temporal/search-attributes';
import { visibilityString } from '../temporal/visibility-query';
import { requirePageToken, signPageToken } from './page-token';
import type { ListFailuresQuery } from './schemas';

export interface DeliveryFailure {
  messageId: string;
  workflowId: string;
  runId: string;
  closeTime: string | null;
}

export interface DeliveryFailurePage {
  failures: DeliveryFailure[];
  nextPageToken: string | null;
}

export interface ReplayResult {
  restarted: Array<{ messageId: string; workflowId: string; runId: string }>;
  skipped: Array<{ messageId: string; workflowId: string; reason: 'notFailed' | 'notFound' }>;
}

/** Upper bound on the failures that one replay without messageIds reruns; a caller with more repeats the request. */
export const REPLAY_ALL_LIMIT = 1000;

const FAILED = temporal.api.enums.v1.WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_FAILED;

/** Builds the visibility query for a mailbox's failed deliveryWorkflows. */
export function failuresQuery(emailAddress: string): string {
  return `WorkflowType = '${DELIVERY_WORKFLOW_TYPE}' AND ExecutionStatus = 'Failed' AND ${GMAIL_EMAIL_ADDRESS.name} = ${visibilityString(emailAddress.toLowerCase())}`;
}

function messageIdOf(workflowId: string, emailAddress: string): string {
  const prefix = deliveryWorkflowId(emailAddress, '');
  return workflowId.startsWith(prefix) ? workflowId.slice(prefix.length) : workflowId;
}

/**
 * Lists one page of a mailbox's failed deliveryWorkflows: those whose latest
 * run failed. The caller sets the deadline. A page token that this API did not
 * issue is rejected before Temporal is called. A page can contain fewer entries
 * than `pageSize` and still have a next page, because runs that replay-failures
 * has since rerun are left out of it.
 */
export async function listFailures(client: Client, namespace: string, emailAddress: string, query: ListFailuresQuery, pageTokenKey: Buffer): Promise<DeliveryFailurePage> {
  const nextPageToken = requirePageToken(pageTokenKey, query.pageToken);

  const response = await client.workflowService.listWorkflowExecutions({ namespace, pageSize: query.pageSize, nextPageToken, query: failuresQuery(emailAddress) });
  const listed = (response.executions ?? []).map((execution): DeliveryFailure => {
    const workflowId = execution.execution?.workflowId ?? '';
    const closeMs = optionalTsToMs(execution.closeTime);
    return {
      messageId: messageIdOf(workflowId, emailAddress),
      workflowId,
      runId: execution.execution?.runId ?? '',
      closeTime: closeMs === undefined ? null : new Date(closeMs).toISOString(),
    };
  });
  const failures = await latestRunsOnly(client, listed);
  const token = response.nextPageToken;
  return { failures, nextPageToken: token && token.length > 0 ? signPageToken(pageTokenKey, token) : null };
}

/** Maximum describe calls that one page of failures makes at a time. */
const DESCRIBE_CONCURRENCY = 20;

/**
 * Keeps the failures whose run is still the latest run of its workflow id.
 * Visibility keeps every run, so without this a failed run that
 * replay-failures reran would stay listed after the rerun delivered.
 */
async function latestRunsOnly(client: Client, failures: DeliveryFailure[]): Promise<DeliveryFailure[]> {
  const latestRunIds: Array<string | undefined> = [];
  for (let start = 0; start < failures.length; start += DESCRIBE_CONCURRENCY) {
    const batch = failures.slice(start, start + DESCRIBE_CONCURRENCY);
    latestRunIds.push(...(await Promise.all(batch.map((failure) => latestRunId(client, failure.workflowId)))));
  }
  return failures.filter((failure, index) => latestRunIds[index] === failure.runId);
}

/** Returns the run id of a workflow id's latest run, or undefined when Temporal no longer has the workflow. */
async function latestRunId(client: Client, workflowId: string): Promise<string | undefined> {
  try {
    return (await client.workflow.getHandle(workflowId).describe()).runId;
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) {
      return undefined;
    }
    throw error;
  }
}

/**
 * Reruns failed deliveryWorkflows of a mailbox: the given messages, or every
 * failed one up to REPLAY_ALL_LIMIT. Each rerun starts a new run under the same
 * workflow id with reuse policy ALLOW_DUPLICATE_FAILED_ONLY, so a delivery
 * whose latest run did not fail is skipped instead of repeated.
 */
export async function replayFailures(client: Client, namespace: string, emailAddress: string, messageIds: string[] | undefined): Promise<ReplayResult> {
  const address = emailAddress.toLowerCase();
  const ids = messageIds ?? (await allFailedMessageIds(client, namespace, address));
  const result: ReplayResult = { restarted: [], skipped: [] };

  for (const messageId of [...new Set(ids)]) {
    const workflowId = deliveryWorkflowId(address, messageId);
    const outcome = await replayOne(client, address, workflowId);
    if (typeof outcome === 'string') {
      result.skipped.push({ messageId, workflowId, reason: outcome });
    } else {
      result.restarted.push({ messageId, workflowId, runId: outcome.runId });
    }
  }
  return result;
}

async function allFailedMessageIds(client: Client, namespace: string, emailAddress: string): Promise<string[]> {
  const ids: string[] = [];
  let nextPageToken: Uint8Array | undefined;
  do {
    const response = await client.workflowService.listWorkflowExecutions({ namespace, pageSize: 100, nextPageToken, query: failuresQuery(emailAddress) });
    for (const execution of response.executions ?? []) {
      ids.push(messageIdOf(execution.execution?.workflowId ?? '', emailAddress));
    }
    nextPageToken = response.nextPageToken && response.nextPageToken.length > 0 ? response.nextPageToken : undefined;
  } while (nextPageToken !== undefined && ids.length < REPLAY_ALL_LIMIT);
  return ids.slice(0, REPLAY_ALL_LIMIT);
}

/** Restarts one deliveryWorkflow from its latest run's input, or returns why it was skipped. */
async function replayOne(client: Client, emailAddress: string, workflowId: string): Promise<{ runId: string } | 'notFailed' | 'notFound'> {
  // 1. Only a latest run that failed is rerun.
  const handle = client.workflow.getHandle(workflowId);
  let description;
  try {
    description = await handle.describe();
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) {
      return 'notFound';
    }
    throw error;
  }
  if (description.type !== DELIVERY_WORKFLOW_TYPE) {
    return 'notFound';
  }
  if (description.raw.workflowExecutionInfo?.status !== FAILED) {
    return 'notFailed';
  }

  // 2. Read that run's input, decoded by the client's data converter.
  const history = await client.workflow.getHandle(workflowId, description.runId).fetchHistory();
  const started = history.events?.[0]?.workflowExecutionStartedEventAttributes;
  const input = await decodeFromPayloadsAtIndex<DeliveryWorkflowInput>(client.options.loadedDataConverter, 0, started?.input?.payloads);

  // 3. Start a new run under the same id; a concurrent replay that won the race leaves a running run.
  try {
    const rerun = await client.workflow.start(DELIVERY_WORKFLOW_TYPE, {
      taskQueue: description.taskQueue,
      workflowId,
      args: [input],
      workflowIdConflictPolicy: 'FAIL',
      workflowIdReusePolicy: 'ALLOW_DUPLICATE_FAILED_ONLY',
      typedSearchAttributes: new TypedSearchAttributes([{ key: GMAIL_EMAIL_ADDRESS, value: emailAddress }]),
      staticSummary: `Replay of the delivery of Gmail message ${input.messageId} of ${emailAddress}`,
    });
    return { runId: rerun.firstExecutionRunId };
  } catch (error) {
    if (error instanceof WorkflowExecutionAlreadyStartedError) {
      return 'notFailed';
    }
    throw error;
  }
}
