/**
 * Classifies errors of Temporal client calls into "Temporal is unreachable or
 * slow, retry later" and everything else. The push endpoint, the pull
 * subscriber and the management API's error handler share this rule.
 */
import { status as GrpcStatus } from '@grpc/grpc-js';
import { ServiceError, WorkflowUpdateRPCTimeoutOrCancelledError } from '@temporalio/client';

/** gRPC codes that mean Temporal is unreachable, overloaded or slow; the caller may retry. */
const TRANSIENT_GRPC_CODES = new Set<number>([
  GrpcStatus.UNAVAILABLE,
  GrpcStatus.DEADLINE_EXCEEDED,
  GrpcStatus.CANCELLED,
  GrpcStatus.RESOURCE_EXHAUSTED,
  GrpcStatus.ABORTED,
]);

/**
 * Message of the plain Error that @grpc/grpc-js 1.14 throws for a call on a
 * closed channel, for example after the Temporal connection was closed.
 */
const CHANNEL_SHUT_DOWN = 'Channel has been shut down';

/** Yields the error and its causes, at most five deep. */
function* causeChain(error: unknown): Generator<Error> {
  for (let current = error, depth = 0; current instanceof Error && depth < 5; depth++) {
    yield current;
    current = (current as { cause?: unknown }).cause;
  }
}

/** Finds a numeric gRPC status code on the error or along its cause chain. */
export function grpcCode(error: unknown): number | undefined {
  for (const current of causeChain(error)) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'number') {
      return code;
    }
  }
  return undefined;
}

/**
 * Returns true for failures that mean Temporal was unreachable or timed out:
 * a transient gRPC status, an update that passed its deadline, a call on a
 * closed channel, or a ServiceError without a gRPC status, which failed in
 * the transport.
 */
export function isTemporalUnavailable(error: unknown): boolean {
  if (error instanceof WorkflowUpdateRPCTimeoutOrCancelledError) {
    return true;
  }
  if ([...causeChain(error)].some((current) => current.message.includes(CHANNEL_SHUT_DOWN))) {
    return true;
  }
  const code = grpcCode(error);
  if (code === undefined) {
    return error instanceof ServiceError;
  }
  return TRANSIENT_GRPC_CODES.has(code);
}
