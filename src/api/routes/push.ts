/**
 * `POST /pubsub/push`, the Pub/Sub push endpoint. Pub/Sub counts 102, 200,
 * 201, 202 and 204 as an ack and redelivers on any other status. So tokens get
 * 401 or 403, and requests that are not a push get 413, 415 or 400. Every
 * push that was handled or can never be handled (a dead letter, or an address
 * without a mailbox) gets 204. A signal that Temporal did not accept, or a
 * server that is draining, gets 503.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';

import { ingestNotification, MESSAGE_ID_MAX_LENGTH, TemporalUnavailableError, type IngestDeps } from '../../ingest/ingest-notification';
import type { IngestOutcome } from '../../metrics/metrics';
import { ApiError } from '../errors';
import { CertificatesUnavailableError, type PushTokenVerifier } from '../push-auth';
import { readPushBody } from '../push-envelope';
import { ErrorResponse } from '../schemas';

export interface PushRouteOptions {
  verifier: PushTokenVerifier;
  ingest: IngestDeps;
  certsUrl: string;
  isDraining: () => boolean;
}

/** Documents the wrapped format; the handler itself classifies bodies (see readPushBody). */
const PushEnvelope = Type.Object(
  {
    message: Type.Object({
      data: Type.String({ description: 'base64 or base64url of {"emailAddress", "historyId"}.' }),
      messageId: Type.Optional(Type.String()),
      publishTime: Type.Optional(Type.String()),
      attributes: Type.Optional(Type.Record(Type.String(), Type.String())),
    }),
    subscription: Type.Optional(Type.String()),
    deliveryAttempt: Type.Optional(Type.Integer()),
  },
  { description: 'Pub/Sub push envelope. The unwrapped format, Gmail\'s JSON as the whole body, is accepted too.' },
);

const STATUS_OUTCOMES: Record<number, IngestOutcome> = {
  400: 'bad_request',
  401: 'unauthenticated',
  403: 'forbidden',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
};

/**
 * Rejects every other method on /pubsub/push with 405 and `Allow: POST`. It
 * is registered apart from pushRoutes, so the push token check does not run first.
 */
export function pushMethodNotAllowedRoutes(app: FastifyInstance): void {
  app.route({
    method: ['GET', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'],
    url: '/pubsub/push',
    schema: { hide: true },
    handler: (request, reply) => {
      void reply.header('allow', 'POST');
      throw ApiError.of('METHOD_NOT_ALLOWED', { method: request.method, url: '/pubsub/push', allow: 'POST' });
    },
  });
}

export function pushRoutes(app: FastifyInstance, options: PushRouteOptions): void {
  const outcomes = new WeakMap<FastifyRequest, IngestOutcome>();

  // The body is parsed in the handler, losslessly; only JSON content types reach it (415 otherwise).
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => done(null, body));

  // 1. Draining and token verification run before the body is read.
  app.addHook('onRequest', async (request) => {
    if (options.isDraining()) {
      outcomes.set(request, 'draining');
      throw ApiError.of('SHUTTING_DOWN');
    }
    const result = await options.verifier.verify(request.headers.authorization).catch((error: unknown) => {
      if (error instanceof CertificatesUnavailableError) {
        outcomes.set(request, 'certificates_unavailable');
        throw ApiError.of('PUSH_CERTIFICATES_UNAVAILABLE', { url: options.certsUrl });
      }
      throw error;
    });
    if (!result.ok) {
      if (result.reason === 'token_missing') {
        throw ApiError.of('PUSH_TOKEN_MISSING');
      }
      throw result.status === 401
        ? ApiError.of('PUSH_TOKEN_INVALID', { reason: result.reason })
        : ApiError.of('PUSH_TOKEN_FORBIDDEN', { reason: result.reason });
    }
  });

  // 2. Every push is counted once, by outcome.
  app.addHook('onResponse', async (request, reply) => {
    const outcome = outcomes.get(request) ?? STATUS_OUTCOMES[reply.statusCode] ?? (reply.statusCode === 503 ? 'temporal_unavailable' : undefined);
    if (outcome !== undefined) {
      options.ingest.metrics.pushes.inc({ outcome });
    }
  });

  app.post(
    '/pubsub/push',
    {
      schema: {
        summary: 'Pub/Sub push endpoint for Gmail notifications',
        tags: ['push'],
        security: [{ pushOidcToken: [] }],
        body: PushEnvelope,
        response: {
          204: Type.Null({ description: 'Acknowledged: signalled, no running mailbox, or a dead letter.' }),
          400: ErrorResponse,
          401: ErrorResponse,
          403: ErrorResponse,
          413: ErrorResponse,
          415: ErrorResponse,
          503: ErrorResponse,
        },
      },
      // The schema documents the body; the handler classifies it, because a bad
      // Gmail payload must be acknowledged (204) rather than refused (400).
      validatorCompiler: () => () => true,
    },
    async (request: FastifyRequest, reply: FastifyReply) => {
      // 3. Not a push at all: 400, so the sender notices.
      const read = readPushBody(request.body as string, request.headers);
      if (!read.ok) {
        throw ApiError.of('PUSH_NOT_PUBSUB', { problem: read.problem });
      }

      // 4. Dead letter, no mailbox or signalled: 204. Temporal failing: 503, so Pub/Sub redelivers.
      const log = request.log.child({ messageId: read.meta.messageId?.slice(0, MESSAGE_ID_MAX_LENGTH), format: read.format });
      try {
        const result = await ingestNotification(options.ingest, 'push', read.decoded, read.meta, log);
        outcomes.set(request, result.outcome);
      } catch (error) {
        if (error instanceof TemporalUnavailableError) {
          outcomes.set(request, 'temporal_unavailable');
          throw ApiError.of('TEMPORAL_UNAVAILABLE', { reason: error.message });
        }
        throw error;
      }
      return reply.status(204).send();
    },
  );
}
