/**
 * Measures the push endpoint against a real Temporal dev server, side by side
 * with a baseline that signals Temporal directly from a loop, so the figure
 * that matters is the ratio of the two rates. Token verification is on with
 * cached certificates. Every request carries the same RS256 token, as Pub/Sub
 * reuses one, so the server verifies it once and then finds it in its cache.
 *
 *   npx tsx bench/push-throughput.ts [--duration 10] [--connections 20]
 *
 * Steps: (1) start a dev server and 50 mailbox workflows without a worker, so
 * signals are accepted by the server and nothing else runs; (2) the baseline,
 * `connections` concurrent loops calling notifyMailbox for `duration`
 * seconds; (3) autocannon against POST /pubsub/push with as many
 * connections; (4) autocannon again at half of the push rate from (3), for
 * the latency at that load; (5) direct signals at that same fixed rate. The API server and the baseline loops run in
 * this process's main thread, autocannon in a worker thread of it. Writes bench/results/push-throughput.md.
 */
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';

import autocannon from 'autocannon';
import pino from 'pino';

import { buildApiServer } from '../src/api/server';
import { loadConfig } from '../src/config';
import { MAILBOX_WORKFLOW_TYPE, notifyMailbox } from '../src/temporal/mailbox-client';
import { mailboxWorkflowId } from '../workflows/mailbox/types';
import { PUSH_AUDIENCE, PUSH_SERVICE_ACCOUNT, startOidcIssuer } from '../test/api/helpers/oidc';
import { createDevServerEnv } from '../test/helpers/temporal';
import { percentile, writeResults } from './results-file';

const MAILBOXES = 50;

interface Figures {
  rate: number;
  p50: number;
  p99: number;
  total: number;
  failures: number;
}

/** `connections` loops that signal mailboxes directly for `durationS` seconds. */
async function directSignals(signal: (index: number) => Promise<unknown>, connections: number, durationS: number): Promise<Figures> {
  const latencies: number[] = [];
  let failures = 0;
  let index = 0;
  const deadline = Date.now() + durationS * 1000;
  const started = Date.now();

  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (Date.now() < deadline) {
        const begin = performance.now();
        try {
          await signal(index++);
          latencies.push(performance.now() - begin);
        } catch {
          failures += 1;
        }
      }
    }),
  );

  const elapsedS = (Date.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return { rate: latencies.length / elapsedS, p50: percentile(latencies, 0.5), p99: percentile(latencies, 0.99), total: latencies.length, failures };
}

/** Signals at a fixed rate for `durationS` seconds, without waiting for earlier calls, as a fixed-rate load generator does. */
async function directSignalsAtRate(signal: (index: number) => Promise<unknown>, rate: number, durationS: number): Promise<Figures> {
  const latencies: number[] = [];
  const pending: Promise<void>[] = [];
  let failures = 0;
  const started = performance.now();

  for (let i = 0; i < Math.floor(rate * durationS); i++) {
    const wait = started + (i * 1000) / rate - performance.now();
    if (wait > 0) {
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
    const begin = performance.now();
    pending.push(
      signal(i).then(
        () => {
          latencies.push(performance.now() - begin);
        },
        () => {
          failures += 1;
        },
      ),
    );
  }
  await Promise.all(pending);

  const elapsedS = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return { rate: latencies.length / elapsedS, p50: percentile(latencies, 0.5), p99: percentile(latencies, 0.99), total: latencies.length, failures };
}

function fromAutocannon(result: autocannon.Result): Figures {
  return {
    rate: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    total: result.requests.total,
    failures: result.non2xx + result.errors + result.timeouts,
  };
}

function row(name: string, figures: Figures): string {
  return `| ${name} | ${figures.rate.toFixed(0)} | ${figures.p50.toFixed(1)} | ${figures.p99.toFixed(1)} | ${figures.total} | ${figures.failures} |`;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { duration: { type: 'string', default: '10' }, connections: { type: 'string', default: '20' } } });
  const durationS = Number(values.duration);
  const loadBefore = os.loadavg();
  const connections = Number(values.connections);

  // 1. Temporal and the mailboxes.
  const env = await createDevServerEnv();
  const issuer = await startOidcIssuer();
  const taskQueue = `bench-${randomUUID()}`;
  const addresses = Array.from({ length: MAILBOXES }, (_, i) => `bench-${i}@example.com`);
  for (const emailAddress of addresses) {
    await env.client.workflow.start(MAILBOX_WORKFLOW_TYPE, { taskQueue, workflowId: mailboxWorkflowId(emailAddress), args: [{ emailAddress }] });
  }

  try {
    // 2. Baseline: signal Temporal directly.
    let historyId = 1000;
    const direct = await directSignals(
      (i) => notifyMailbox(env.client, addresses[i % MAILBOXES], { historyId: String(historyId++), messageId: `direct-${i}` }),
      connections,
      durationS,
    );
    process.stdout.write(`direct signal: ${direct.rate.toFixed(0)} per second, p99 ${direct.p99.toFixed(1)} ms\n`);

    // 3. The push endpoint at full load.
    const config = loadConfig({
      GMAIL_SYNC_TASK_QUEUE: taskQueue,
      GMAIL_SYNC_API_TOKEN: 'bench-api-token-0123456789',
      GMAIL_SYNC_PUSH_AUDIENCE: PUSH_AUDIENCE,
      GMAIL_SYNC_PUSH_SERVICE_ACCOUNT: PUSH_SERVICE_ACCOUNT,
      GMAIL_SYNC_PUSH_CERTS_URL: issuer.certsUrl,
      // env.client signals with plain payloads, as the direct baseline does.
      GMAIL_SYNC_PAYLOAD_ENCRYPTION: 'off',
    });
    const api = await buildApiServer({
      config,
      client: env.client,
      logger: pino({ level: 'warn' }),
      mailboxDefaults: { credential: { provider: 'sandbox' } },
      resolveMailboxAddress: (address) => Promise.resolve(address),
    });
    const url = await api.app.listen({ port: 0, host: '127.0.0.1' });
    // Pre-built bodies, cycled by each connection, so the load generator can run in a worker thread.
    const requests = Array.from({ length: 1000 }, (_, i) => {
      const data = Buffer.from(JSON.stringify({ emailAddress: addresses[i % MAILBOXES], historyId: 5_000_000 + i })).toString('base64');
      return { method: 'POST', body: JSON.stringify({ message: { data, messageId: `push-${i}` }, subscription: 'projects/bench/subscriptions/push' }) };
    });
    const pushOptions = {
      url: `${url}/pubsub/push`,
      connections,
      workers: 1,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${issuer.sign()}` },
      requests,
    };
    const push = fromAutocannon(await autocannon({ ...pushOptions, duration: durationS }));
    process.stdout.write(`push endpoint: ${push.rate.toFixed(0)} per second, p99 ${push.p99.toFixed(1)} ms\n`);

    // 4. The push endpoint at half of its measured maximum.
    const halfRate = Math.max(1, Math.floor(push.rate / 2));
    const half = fromAutocannon(await autocannon({ ...pushOptions, duration: durationS, overallRate: halfRate }));
    process.stdout.write(`push endpoint at ${halfRate} per second: p99 ${half.p99.toFixed(1)} ms\n`);
    await api.app.close();

    // 5. Direct signals at the same rate, to tell the endpoint's tail latency from Temporal's.
    const directHalf = await directSignalsAtRate(
      (i) => notifyMailbox(env.client, addresses[i % MAILBOXES], { historyId: String(historyId++), messageId: `direct-half-${i}` }),
      halfRate,
      durationS,
    );
    process.stdout.write(`direct signal at ${halfRate} per second: p99 ${directHalf.p99.toFixed(1)} ms\n`);

    // 6. Results.
    const ratio = push.rate / direct.rate;
    const cpus = os.cpus();
    const report = [
      '# Push endpoint throughput',
      '',
      `Command: \`npx tsx bench/push-throughput.ts --duration ${durationS} --connections ${connections}\``,
      `Run: ${new Date().toISOString()}, Node ${process.version}, ${cpus.length} × ${cpus[0]?.model ?? 'unknown CPU'}, ${os.platform()} ${os.release()}.`,
      `Setup: Temporal dev server (temporal server start-dev, SQLite in memory) on loopback; ${MAILBOXES} mailbox workflows without a worker, so`,
      'Temporal accepts each signal into history and nothing else runs. API server and baseline loops share the main thread of one Node process; autocannon runs in a worker thread of it.',
      'Every push carries the same RS256 OIDC token, as Pub/Sub reuses one for many pushes: the server verifies it on the first push and reuses',
      `the result until the token expires. Certificates were fetched ${issuer.fetches()} time(s) in this run.`,
      '',
      '| path | requests per second | p50 ms | p99 ms | requests | failures |',
      '| --- | --- | --- | --- | --- | --- |',
      row(`direct signal, ${connections} loops`, direct),
      row(`POST /pubsub/push, ${connections} connections`, push),
      row(`POST /pubsub/push at ${halfRate} per second (half the maximum)`, half),
      row(`direct signal at ${halfRate} per second`, directHalf),
      '',
      `Push rate / direct-signal rate: **${ratio.toFixed(2)}** (target at least 0.8).`,
      `Load average before the run: ${loadBefore.map((load) => load.toFixed(2)).join(', ')} (1, 5, 15 minutes); other processes on the machine share its cores.`,
      `p99 at half the maximum: **${half.p99.toFixed(1)} ms** (target below 50 ms).`,
      '',
    ].join('\n');
    const file = writeResults('push-throughput.md', report);
    process.stdout.write(`\n${report}\nwritten to ${path.relative(process.cwd(), file)}\n`);
  } finally {
    await issuer.close();
    await env.teardown();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
