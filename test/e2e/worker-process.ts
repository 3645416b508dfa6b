/**
 * A gmail-sync worker in a process of its own, for tests that kill it with
 * SIGKILL. Like src/worker-main.ts it reads its settings from the environment
 * and hands failed deliveries to deliveryWorkflows through its own client. It
 * also bundles the interceptor that shortens heartbeat timeouts to 3 seconds,
 * and prints `worker running` once it polls.
 */
import { loadConfig } from '../../src/config';
import { connectClient, connectWorker } from '../../src/temporal/connection';
import { createWorker } from '../../src/worker';

async function main(): Promise<void> {
  const config = loadConfig();
  const connection = await connectWorker(config);
  const temporal = await connectClient(config);
  const worker = await createWorker({
    connection,
    config,
    client: temporal.client,
    workflowInterceptorModules: [require.resolve('./short-heartbeat-interceptor')],
  });
  const running = worker.run();
  process.stdout.write('worker running\n');
  await running;
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
