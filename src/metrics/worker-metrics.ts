import { Runtime } from '@temporalio/worker';

import type { Config } from '../config';

/**
 * Installs the Temporal runtime with its Prometheus exporter at
 * GMAIL_SYNC_WORKER_METRICS_ADDRESS, so the worker's SDK metrics (task
 * latencies, slots, polls, activity and workflow counters) can be scraped.
 * Does nothing when the setting is unset. Call it once, before the first
 * connection or worker is created, because the runtime can be installed only once.
 */
export function installWorkerMetrics(config: Pick<Config, 'workerMetricsAddress'>): void {
  if (config.workerMetricsAddress === undefined) {
    return;
  }
  Runtime.install({ telemetryOptions: { metrics: { prometheus: { bindAddress: config.workerMetricsAddress } } } });
}
