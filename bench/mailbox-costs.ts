/**
 * Measures what one mailbox costs: workflow history events per processed
 * notification, history.list calls per notification under a burst, and the
 * Temporal actions and Gmail quota units of one idle mailbox per day with the
 * default timing. Runs mailboxWorkflow with its real activities on Temporal's
 * time-skipping test server against the Gmail sandbox.
 *
 *   npx tsx bench/mailbox-costs.ts [--record test/replay/histories]
 *
 * Writes bench/results/mailbox-costs.md; with --record it also saves the
 * workflow histories it produced, as replay fixtures.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import type { WorkflowHandle } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';

import { createActivities, RecordingDelivery } from '../activities';
import { createSandboxGmailProvider } from '../src/gmail';
import { provisionTestServer } from '../src/provision/test-server';
import { startSandbox, type Sandbox } from '../src/sandbox';
import { registerSearchAttributes } from '../src/temporal/search-attributes';
import { startMailbox } from '../src/temporal/mailbox-client';
import { notifySignal, stateQuery, stopUpdate } from '../workflows/mailbox/messages';
import type { MailboxState } from '../workflows/mailbox/types';
import { writeResults } from './results-file';
import { ACTION_COUNTING_RULE, countActions } from './temporal-actions';

const EventType = temporal.api.enums.v1.EventType;
const DAY_MS = 24 * 60 * 60 * 1000;
const SPACED_NOTIFICATIONS = 20;
const BURST_SIZE = 50;

interface Context {
  env: TestWorkflowEnvironment;
  sandbox: Sandbox;
  worker: Worker;
  taskQueue: string;
  recordDir?: string;
}

async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const recordIndex = process.argv.indexOf('--record');
  const recordDir = recordIndex >= 0 ? process.argv[recordIndex + 1] : undefined;

  // 1. Start the world: test server, sandbox, one worker.
  const server = await provisionTestServer();
  const env = await TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: server.kind === 'path' ? { type: 'existing-path', path: server.path } : { type: 'cached-download' } },
  });
  await registerSearchAttributes(env.connection, env.namespace ?? 'default');
  const sandbox = await startSandbox({ port: 0 });
  const taskQueue = `bench-${randomUUID()}`;
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowsPath: require.resolve('../workflows'),
    activities: createActivities({ gmail: createSandboxGmailProvider(sandbox.url), delivery: new RecordingDelivery() }),
  });
  const context: Context = { env, sandbox, worker, taskQueue, recordDir };

  // 2. Measure each scenario.
  const lines = await worker.runUntil(async () => [
    ...(await measureSpacedNotifications(context)),
    ...(await measureBurst(context)),
    ...(await measureIdleDay(context)),
  ]);

  // 3. Report.
  const report = [
    '# Mailbox costs',
    '',
    `Command: \`npx tsx bench/mailbox-costs.ts${recordDir ? ` --record ${recordDir}` : ''}\``,
    `Run at ${new Date().toISOString()} on ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'unknown CPU'}, ${process.platform}/${process.arch}, Node ${process.version}; Temporal time-skipping test server and the Gmail sandbox in process.`,
    '',
    ...lines,
    '',
  ].join('\n');
  writeResults('mailbox-costs.md', report);
  process.stdout.write(report);

  await sandbox.stop();
  await env.teardown();
}

/** Events per notification when each one is processed before the next arrives. */
async function measureSpacedNotifications(context: Context): Promise<string[]> {
  const { handle, emailAddress } = await startBenchMailbox(context, 'spaced');
  const eventsBefore = await historyLength(handle);
  const markersBefore = ((await handle.fetchHistory()).events ?? []).filter((event) => event.eventType === EventType.EVENT_TYPE_MARKER_RECORDED).length;
  for (let index = 0; index < SPACED_NOTIFICATIONS; index += 1) {
    const message = context.sandbox.deliverMessage(emailAddress);
    await handle.signal(notifySignal, { historyId: message.historyId });
    // Polled through the history, not the state query: a query that arrives
    // while a local activity runs makes the test server add a workflow task.
    await waitForMarkers(handle, markersBefore + index + 1);
  }
  await waitForState(handle, (state) => state.counters.syncs === SPACED_NOTIFICATIONS);
  const events = (await historyLength(handle)) - eventsBefore;
  await finish(context, handle, 'notifications');
  return [
    '## History events per processed notification',
    '',
    `${SPACED_NOTIFICATIONS} notifications, each synced before the next: ${events} events, ${(events / SPACED_NOTIFICATIONS).toFixed(2)} per notification (target: at most 8).`,
    '',
    'Each notification records a signal, one workflow task (scheduled, started, completed) and the marker of the local syncHistory activity; the deadline timer is not restarted. A state query that arrives while the sync runs adds one more workflow task (3 events) on the test server, so the benchmark waits on the history instead of querying.',
    '',
  ];
}

/** history.list calls per notification when a burst arrives at once. */
async function measureBurst(context: Context): Promise<string[]> {
  const { handle, emailAddress } = await startBenchMailbox(context, 'burst');
  const callsBefore = context.sandbox.getCounters(emailAddress).calls['history.list'] ?? 0;
  const eventsBefore = await historyLength(handle);
  let last = '';
  for (let index = 0; index < BURST_SIZE; index += 1) {
    const message = context.sandbox.deliverMessage(emailAddress);
    last = message.historyId;
    await handle.signal(notifySignal, { historyId: message.historyId });
  }
  await waitForState(handle, (state) => state.historyId === last && state.pendingHistoryId === null);
  const calls = (context.sandbox.getCounters(emailAddress).calls['history.list'] ?? 0) - callsBefore;
  const events = (await historyLength(handle)) - eventsBefore;
  await finish(context, handle, 'burst');
  return [
    '## history.list calls under a burst',
    '',
    `${BURST_SIZE} messages and notifications sent back to back: ${calls} history.list calls, ${(calls / BURST_SIZE).toFixed(2)} per notification (target: well under 1); ${events} history events, ${(events / BURST_SIZE).toFixed(2)} per notification.`,
    '',
  ];
}

/** Temporal actions and Gmail quota units of one idle mailbox over one simulated day. */
async function measureIdleDay(context: Context): Promise<string[]> {
  const { handle, emailAddress } = await startBenchMailbox(context, 'idle');
  const unitsBefore = context.sandbox.getCounters(emailAddress).quotaUnits;
  const eventsBefore = (await handle.fetchHistory()).events?.length ?? 0;
  await context.env.sleep(DAY_MS);
  await waitForState(handle, (state) => state.counters.watchRenewals === 1);

  const events = ((await handle.fetchHistory()).events ?? []).slice(eventsBefore);
  const actions = countActions(events);
  const counters = context.sandbox.getCounters(emailAddress);
  const units = counters.quotaUnits - unitsBefore;
  const state = await handle.query(stateQuery);
  await finish(context, handle, 'idle-day');
  return [
    '## One idle mailbox per day (default timing)',
    '',
    `Temporal actions: ${actions.total} (timers ${actions.timers}, local activity tasks ${actions.localActivityTasks}, activities ${actions.activities}, search attribute upserts ${actions.searchAttributeUpserts}, signals ${actions.signals}, other ${actions.workflowStarts + actions.updates + actions.other}) (target: at most 60).`,
    `Gmail quota units: ${units}, from ${state.counters.polls} quiet-period history.list calls and ${state.counters.watchRenewals} watch renewal (target: at most 200).`,
    `History events: ${events.length}.`,
    '',
    `${ACTION_COUNTING_RULE} The benchmark's own state query after the day is not counted.`,
    '',
  ];
}

async function startBenchMailbox(context: Context, label: string): Promise<{ handle: WorkflowHandle; emailAddress: string }> {
  const emailAddress = `bench-${label}-${randomUUID().slice(0, 8)}@example.com`;
  const started = await startMailbox(context.env.client, context.taskQueue, {
    emailAddress,
    watch: { topicName: 'projects/gmail-sync-bench/topics/gmail' },
    credential: { provider: 'sandbox' },
  });
  const handle = context.env.client.workflow.getHandle(started.workflowId);
  await waitForState(handle, (state) => state.historyId !== null);
  return { handle, emailAddress };
}

async function finish(context: Context, handle: WorkflowHandle, name: string): Promise<void> {
  await handle.executeUpdate(stopUpdate);
  await handle.result();
  if (context.recordDir) {
    const history = await handle.fetchHistory();
    mkdirSync(context.recordDir, { recursive: true });
    writeFileSync(path.join(context.recordDir, `${name}.json`), JSON.stringify(history, null, 1));
  }
}

/** Waits until the history holds `markers` local-activity markers and no workflow task is open. */
async function waitForMarkers(handle: WorkflowHandle, markers: number): Promise<void> {
  for (let attempt = 0; attempt < 1200; attempt += 1) {
    const events = (await handle.fetchHistory()).events ?? [];
    const recorded = events.filter((event) => event.eventType === EventType.EVENT_TYPE_MARKER_RECORDED).length;
    const lastType = events[events.length - 1]?.eventType;
    const open = lastType === EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED || lastType === EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED;
    if (recorded >= markers && !open) {
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`mailbox ${handle.workflowId} did not record ${markers} markers within 30 seconds`);
}

async function historyLength(handle: WorkflowHandle): Promise<number> {
  return (await handle.fetchHistory()).events?.length ?? 0;
}

async function waitForState(handle: WorkflowHandle, predicate: (state: MailboxState) => boolean): Promise<MailboxState> {
  for (let attempt = 0; attempt < 1200; attempt += 1) {
    const state = await handle.query(stateQuery);
    if (predicate(state)) {
      return state;
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`mailbox ${handle.workflowId} did not reach the expected state within 30 seconds`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
