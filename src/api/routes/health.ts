/** Operations routes: `/healthz` (liveness), `/readyz` (Temporal reachable, not draining) and `/metrics` (Prometheus). */
import type { Client } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';

import type { Metrics } from '../../metrics/metrics';

/** How long /readyz waits for Temporal's health check, in milliseconds. */
const READINESS_TIMEOUT_MS = 2_000;

export interface HealthRouteOptions {
  client: Client;
  metrics: Metrics;
  isDraining: () => boolean;
}

const Readiness = Type.Object({
  status: Type.Union([Type.Literal('ready'), Type.Literal('not ready')]),
  temporal: Type.String({ description: 'reachable, or why not' }),
  draining: Type.Boolean(),
});

export function healthRoutes(parent: FastifyInstance, options: HealthRouteOptions): void {
  const app = parent.withTypeProvider<TypeBoxTypeProvider>();

  app.get(
    '/healthz',
    { schema: { summary: 'Liveness: the process serves requests', tags: ['operations'], response: { 200: Type.Object({ status: Type.Literal('ok') }) } } },
    (_request, reply) => {
      void reply.send({ status: 'ok' });
    },
  );

  app.get(
    '/readyz',
    { schema: { summary: 'Readiness: Temporal answers a health check and the server is not draining', tags: ['operations'], response: { 200: Readiness, 503: Readiness } } },
    async (request, reply) => {
      const draining = options.isDraining();
      let temporal = 'reachable';
      try {
        await options.client.withDeadline(Date.now() + READINESS_TIMEOUT_MS, () => options.client.workflowService.getSystemInfo({}));
      } catch (error) {
        temporal = `unreachable: ${error instanceof Error ? error.message : String(error)}`;
        request.log.warn({ err: error }, 'readiness check: Temporal is unreachable');
      }
      const ready = !draining && temporal === 'reachable';
      return reply.status(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not ready', temporal, draining });
    },
  );

  app.get(
    '/metrics',
    { schema: { summary: 'Prometheus metrics', tags: ['operations'], produces: ['text/plain'], response: { 200: Type.String() } } },
    async (_request, reply) => {
      const body = await options.metrics.registry.metrics();
      return reply.header('content-type', options.metrics.registry.contentType).send(body);
    },
  );
}
