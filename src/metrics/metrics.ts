/**
 * Prometheus metrics of the API process. Each server gets its own registry,
 * so that tests can read exact counts and two servers in one process never
 * share a counter.
 */
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';

/** Final outcome of a push or a pulled message, used as the `outcome` label of their counters. */
export type IngestOutcome =
  | 'signalled'
  | 'no_mailbox'
  | 'dead_letter'
  | 'temporal_unavailable'
  | 'certificates_unavailable'
  | 'draining'
  | 'unauthenticated'
  | 'forbidden'
  | 'unsupported_media_type'
  | 'payload_too_large'
  | 'bad_request';

export interface Metrics {
  registry: Registry;
  pushes: Counter<'outcome'>;
  pulls: Counter<'outcome'>;
  deadLetters: Counter<'source' | 'reason'>;
  signalSeconds: Histogram<'source' | 'result'>;
  apiRequests: Counter<'method' | 'route' | 'status'>;
}

export function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'gmail_sync_' });

  return {
    registry,
    pushes: new Counter({
      name: 'gmail_sync_pushes_total',
      help: 'Pub/Sub push requests by outcome.',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    pulls: new Counter({
      name: 'gmail_sync_pulled_messages_total',
      help: 'Messages received by the pull subscriber, by outcome.',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    deadLetters: new Counter({
      name: 'gmail_sync_dead_letters_total',
      help: 'Pub/Sub messages that can never be processed, acknowledged and recorded, by source (push or pull) and reason.',
      labelNames: ['source', 'reason'],
      registers: [registry],
    }),
    signalSeconds: new Histogram({
      name: 'gmail_sync_signal_seconds',
      help: 'Time to signal a notification to its mailbox workflow, by source and result (signalled, no_mailbox, error).',
      labelNames: ['source', 'result'],
      buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    apiRequests: new Counter({
      name: 'gmail_sync_http_requests_total',
      help: 'HTTP requests by method, route template (unmatched for unknown paths) and status code.',
      labelNames: ['method', 'route', 'status'],
      registers: [registry],
    }),
  };
}
