/**
 * The one place where errors become HTTP responses: catalogue errors pass
 * through, Fastify's own errors (validation, body limit, content type) and
 * Temporal client errors are translated into catalogue entries, and anything
 * else is a 500. 5xx responses are logged at error with the cause, 4xx at
 * info with the code.
 */
import { status as GrpcStatus } from '@grpc/grpc-js';
import { WorkflowNotFoundError, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';

import { grpcCode, isTemporalUnavailable } from '../ingest/temporal-failure';
import { getMailboxState } from '../temporal/mailbox-client';
import { ApiError, errorBody } from './errors';
import { translateValidation } from './validation-errors';

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function mailboxParam(request: FastifyRequest): string | undefined {
  const params = request.params as { emailAddress?: unknown } | undefined;
  return typeof params?.emailAddress === 'string' ? params.emailAddress.toLowerCase() : undefined;
}

function translateFastifyError(error: FastifyError, request: FastifyRequest, bodyLimit: number): ApiError | undefined {
  if (error.validation) {
    return translateValidation(error, request);
  }
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE': {
      // Routes such as the codec's set their own limit, which the setting does not change.
      const limit = request.routeOptions.bodyLimit ?? bodyLimit;
      return ApiError.of('BODY_TOO_LARGE', { limit, setting: limit === bodyLimit ? 'GMAIL_SYNC_API_BODY_LIMIT_BYTES' : undefined });
    }
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return ApiError.of('UNSUPPORTED_MEDIA_TYPE', { contentType: request.headers['content-type'] ?? '(none)' });
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return ApiError.of('INVALID_JSON');
  }
  if (error instanceof SyntaxError && error.statusCode === 400) {
    return ApiError.of('INVALID_JSON');
  }
  if (typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 500) {
    return ApiError.of('INVALID_REQUEST', { problem: error.message });
  }
  return undefined;
}

/**
 * Translates Temporal client errors. An update sent to a completed workflow
 * fails as "not found", so the handler reads the mailbox state to tell a
 * stopped mailbox from an unknown one.
 */
async function translateTemporalError(error: unknown, request: FastifyRequest, client: Client, readDeadlineMs: number): Promise<ApiError | undefined> {
  const emailAddress = mailboxParam(request);
  if ((error instanceof WorkflowNotFoundError || grpcCode(error) === GrpcStatus.NOT_FOUND) && emailAddress !== undefined) {
    // Within the read deadline, so that a Temporal that stopped responding cannot hang the error response.
    const state = await client.withDeadline(Date.now() + readDeadlineMs, () => getMailboxState(client, emailAddress)).catch(() => undefined);
    return state?.status === 'stopped'
      ? ApiError.of('MAILBOX_STOPPED', { emailAddress })
      : ApiError.of('MAILBOX_NOT_FOUND', { emailAddress });
  }
  if (error instanceof WorkflowUpdateFailedError) {
    return ApiError.of('MAILBOX_REQUEST_REJECTED', { emailAddress: emailAddress ?? '(unknown)', reason: describe(error.cause ?? error) });
  }
  if (isTemporalUnavailable(error)) {
    return ApiError.of('TEMPORAL_UNAVAILABLE', { reason: describe(error) });
  }
  if (grpcCode(error) === GrpcStatus.FAILED_PRECONDITION) {
    return translatePrecondition(error, emailAddress);
  }
  return undefined;
}

/**
 * Translates the FAILED_PRECONDITION errors of queries and updates that mean
 * the mailbox cannot run handlers for now: its workflow task keeps failing, or the
 * worker stopped polling. Only the message distinguishes them.
 */
function translatePrecondition(error: unknown, emailAddress: string | undefined): ApiError | undefined {
  const reason = grpcMessage(error);
  if (/workflow task in failed state/i.test(reason)) {
    return ApiError.of('MAILBOX_TASK_FAILING', { emailAddress: emailAddress ?? '(unknown)', reason });
  }
  if (/no poller/i.test(reason)) {
    return ApiError.of('NO_WORKER', { reason });
  }
  return undefined;
}

/** Returns the message of the error in the cause chain that carries the gRPC status, which names the server's reason. */
function grpcMessage(error: unknown): string {
  for (let current = error, depth = 0; current instanceof Error && depth < 5; depth++) {
    if (typeof (current as { code?: unknown }).code === 'number') {
      return current.message;
    }
    current = (current as { cause?: unknown }).cause;
  }
  return describe(error);
}

/**
 * Translates an error that the router raises before any route or hook runs
 * (Fastify's `frameworkErrors`): bad percent-encoding and overlong path
 * parameters. Any other code is unexpected and becomes a 500.
 */
export function translateRouterError(error: FastifyError, path: string, maxParamLength: number): ApiError {
  switch (error.code) {
    case 'FST_ERR_BAD_URL':
      return ApiError.of('INVALID_URL', { path });
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return ApiError.of('URL_PARAMETER_TOO_LONG', { limit: maxParamLength });
    default:
      return ApiError.of('INTERNAL');
  }
}

/** Builds Fastify's error handler. */
export function createErrorHandler(client: Client, bodyLimit: number, readDeadlineMs: number) {
  return async function handleError(error: FastifyError, request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
    const translated =
      error instanceof ApiError
        ? error
        : (translateFastifyError(error, request, bodyLimit) ?? (await translateTemporalError(error, request, client, readDeadlineMs)) ?? ApiError.of('INTERNAL'));

    if (translated.statusCode >= 500) {
      request.log.error({ err: error, code: translated.code }, translated.message);
    } else {
      request.log.info({ code: translated.code, reason: translated.message }, 'request rejected');
    }
    if (translated.statusCode === 401) {
      void reply.header('www-authenticate', 'Bearer');
    }
    if (translated.statusCode === 503) {
      void reply.header('retry-after', '5');
    }
    return reply.status(translated.statusCode).send(errorBody(translated));
  };
}
