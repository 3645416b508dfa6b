import { status as grpcStatus } from '@grpc/grpc-js';
import { isGrpcServiceError, WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import { NamespaceNotFoundError, WorkflowNotFoundError } from '@temporalio/common';

import { DeliveryError, type Delivery, type DeliveryEvent, type EventBatch } from '../../activities/delivery';

/** Workflow id of the user's workflow for one added message; one per message, so Temporal rejects a second start. */
export function messageWorkflowId(emailAddress: string, messageId: string): string {
  return `gmail-message/${emailAddress.toLowerCase()}/${messageId}`;
}

/** Workflow id of the user's workflow for one batch of label and deletion events; the batch key is a hash of its delivery ids. */
export function batchWorkflowId(emailAddress: string, batchKey: string): string {
  return `gmail-events/${emailAddress.toLowerCase()}/${batchKey}`;
}

/** gRPC codes of a start that cannot succeed when sent again: the request or the namespace is wrong. */
const PERMANENT_CODES: readonly number[] = [grpcStatus.INVALID_ARGUMENT, grpcStatus.NOT_FOUND, grpcStatus.PERMISSION_DENIED, grpcStatus.FAILED_PRECONDITION, grpcStatus.UNIMPLEMENTED];

/**
 * Starts the user's own workflow per event, with the event as its single
 * argument, so teams write their handler as a Temporal workflow in any SDK.
 * The client's data converter decides how the event is encoded (by default
 * Temporal's plain JSON, see GMAIL_SYNC_WORKFLOW_TARGET_ENCRYPTION), and its
 * namespace is the worker's.
 *
 * The workflow id is fixed per message, and a start whose id exists already,
 * running or closed within the namespace's retention, counts as delivered: so
 * Temporal itself de-duplicates repeats. A batch of label and deletion events
 * starts one workflow, with an id from the batch's key, because one workflow
 * per label change would cost a workflow each time a message is read.
 */
export class WorkflowDelivery implements Delivery {
  constructor(
    private readonly client: Client,
    private readonly workflowType: string,
    private readonly taskQueue: string,
  ) {}

  deliver(event: DeliveryEvent, signal: AbortSignal, deadline?: number): Promise<void> {
    return this.start(messageWorkflowId(event.emailAddress, event.messageId), event, signal, deadline);
  }

  deliverBatch(batch: EventBatch, signal: AbortSignal, deadline?: number): Promise<void> {
    return this.start(batchWorkflowId(batch.emailAddress, batch.batchKey), batch, signal, deadline);
  }

  /**
   * Starts the workflow. The client keeps retrying an unavailable server
   * after the abort signal fires (SDK 1.24) but stops at a deadline, so both
   * are set. Closing the connection while such a retry waits throws from the
   * SDK's retry timer.
   */
  private async start(workflowId: string, input: DeliveryEvent | EventBatch, signal: AbortSignal, deadline: number | undefined): Promise<void> {
    const start = () =>
      this.client.workflow.start(this.workflowType, {
        taskQueue: this.taskQueue,
        workflowId,
        args: [input],
        workflowIdConflictPolicy: 'FAIL',
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
      });
    const started = this.client.withAbortSignal(signal, () => (deadline === undefined ? start() : this.client.withDeadline(deadline, start)));
    try {
      await untilAborted(signal, started);
    } catch (error) {
      if (error instanceof WorkflowExecutionAlreadyStartedError) {
        return;
      }
      throw startFailure(error, this.workflowType, this.taskQueue);
    }
  }
}

/**
 * Settles with `promise`, or rejects when `signal` aborts first, so the
 * per-message budget is kept while the client finishes a retry. A start that
 * still succeeds later is harmless, because the repeat finds the id taken
 * and counts as delivered.
 */
function untilAborted<T>(signal: AbortSignal, promise: Promise<T>): Promise<T> {
  promise.catch(() => undefined);
  const aborted = (): Error => (signal.reason instanceof Error ? signal.reason : new Error('the delivery was aborted'));
  if (signal.aborted) {
    return Promise.reject(aborted());
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(aborted());
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/** Maps a failed start to a DeliveryError: the wrong namespace, type name or arguments are permanent, and anything else (Temporal unavailable, a timeout) is retryable. */
function startFailure(error: unknown, workflowType: string, taskQueue: string): DeliveryError {
  const message = error instanceof Error ? error.message : String(error);
  const failedStart = `starting workflow type ${JSON.stringify(workflowType)} on task queue ${JSON.stringify(taskQueue)} failed`;
  if (error instanceof NamespaceNotFoundError || error instanceof WorkflowNotFoundError) {
    return new DeliveryError(`${failedStart}: ${message}; create the namespace or point the worker at an existing one`, false);
  }
  const code = grpcCode(error);
  if (code !== undefined && PERMANENT_CODES.includes(code)) {
    return new DeliveryError(`${failedStart} with gRPC status ${grpcStatus[code]}: ${grpcDetails(error) ?? message}`, false);
  }
  return new DeliveryError(`${failedStart}: ${grpcDetails(error) ?? message}`, true);
}

function grpcCode(error: unknown): number | undefined {
  return grpcErrorOf(error)?.code;
}

function grpcDetails(error: unknown): string | undefined {
  return grpcErrorOf(error)?.details || undefined;
}

/** Returns the gRPC error itself, or the one that the client wrapped as a ServiceError's cause. */
function grpcErrorOf(error: unknown): { code: number; details?: string } | undefined {
  if (isGrpcServiceError(error)) {
    return error;
  }
  const cause = (error as { cause?: unknown } | undefined)?.cause;
  return isGrpcServiceError(cause) ? cause : undefined;
}
