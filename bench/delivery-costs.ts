/**
 * Measures what delivering a message costs on the happy path with the
 * webhook target: Gmail quota units and Temporal actions per delivered
 * message. It also measures the latency from the sandbox publishing the push
 * to the webhook receiving the message, against a floor from the same run.
 *
 *   npx tsx bench/delivery-costs.ts [--messages 300] [--bursts 4] [--burst-size 25] [--pause-ms 100]
 *
 * Runs what `npm run dev` runs, on free loopback ports: a Temporal dev
 * server, the product worker, the Gmail sandbox pushing signed OIDC pushes to
 * the API, and a webhook receiver in this process. The mailbox is started
 * through the API with the webhook target. Two traffic shapes follow: single
 * messages with a pause after each, so each gets its own push, then bursts
 * that Gmail's one-push-per-second limit folds into one push each. The floor
 * is a workflow that runs, per signal, one activity making one
 * messages.get; its samples alternate with the single messages.
 * Writes bench/results/delivery-costs.md.
 */
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';

import { Client, type WorkflowHandle } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import pino from 'pino';

import { buildApiServer, type ApiServer } from '../src/api/server';
import { withDevPayloadEncryptionDefault } from '../src/codec/codec-settings';
import { loadConfig } from '../src/config';
import { DEFAULT_METADATA_HEADERS } from '../src/delivery/delivery-options';
import { createGmailProvider, createSandboxGmailProvider, resolveMailboxAddress } from '../src/gmail';
import { provisionTemporalCli } from '../src/provision/temporal-cli';
import { startSandbox, type CounterSnapshot, type Sandbox } from '../src/sandbox';
import { createClient } from '../src/temporal/connection';
import { SEARCH_ATTRIBUTES } from '../src/temporal/search-attributes';
import { createWorker } from '../src/worker';
import { mailboxWorkflowId } from '../workflows/mailbox/types';
import { deliveryFloorWorkflow, floorFetchSignal, type FloorActivityKind, type FloorFetch } from './delivery-floor-workflow';
import { GmailCallTimings } from './gmail-call-timings';
import { percentile, writeResults } from './results-file';
import { ACTION_COUNTING_RULE, addActions, countActions, type ActionCounts } from './temporal-actions';
import { TimedWebhookReceiver } from './timed-webhook-receiver';

const EventType = temporal.api.enums.v1.EventType;
type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

const API_TOKEN = 'bench-api-token-0123456789abcdef';
const PUSH_SERVICE_ACCOUNT = 'gmail-sync-bench-push@gmail-sync-bench.iam.gserviceaccount.com';
const PUSH_AUDIENCE = 'https://gmail-sync.bench/pubsub/push';
const WEBHOOK_SECRET_REF = 'BENCH';
const WEBHOOK_SECRET = 'bench-webhook-signing-secret';
/** Sandbox time between two arrivals, past Gmail's limit of one push per mailbox per second. */
const ARRIVAL_GAP_MS = 1100;
/** Messages and floor samples before the measured ones, to open connections and fetch tokens. */
const WARMUP = 5;
/**
 * Pause before reading the dev server's metrics, so that counts of the work
 * before it are published. Temporal Server reports its metrics once a second.
 */
const METRICS_FLUSH_MS = 2_000;
/** Latency above which the report counts a sample as slow, to compare the tails of the product and the floor. */
const SLOW_SAMPLE_MS = 50;
/** Sampling interval of the event loop delay histogram, in milliseconds. */
const LOOP_DELAY_RESOLUTION_MS = 10;
/** Namespace of the floor workflows, so that the server's action counts of the default namespace are the mailbox's alone. */
const FLOOR_NAMESPACE = 'bench-floor';
const TARGET_QUOTA_UNITS = 7;
const TARGET_ACTIONS = 0.1;
const TARGET_LATENCY_RATIO = 1.5;

interface Stack {
  env: TestWorkflowEnvironment;
  /** The dev server's Prometheus endpoint. */
  metricsUrl: string;
  sandbox: Sandbox;
  api: ApiServer;
  apiUrl: string;
  client: Client;
  receiver: TimedWebhookReceiver;
  /** Push requests at the API by notification historyId: arrival and response, Date.now() milliseconds. */
  pushTimes: Map<string, { arrived: number; responded: number }>;
  gmailCalls: GmailCallTimings;
  stop(): Promise<void>;
}

interface Floor {
  sample(kind: FloorActivityKind): Promise<number>;
  stop(): Promise<void>;
}

/** Costs and latencies of one traffic phase. */
interface PhaseFigures {
  name: string;
  messages: number;
  pushes: number;
  quota: CounterSnapshot;
  actions: ActionCounts;
  /** The dev server's own `action` counter of the default namespace, by action type. */
  serverActions: Record<string, number>;
  /** RecordActivityTaskHeartbeat requests that reached the server; billed, but not in any history. */
  heartbeats: number;
  deliveryWorkflows: number;
  latenciesMs: number[];
}

/** One single message's path, in Date.now() milliseconds, for the latency breakdown. */
interface MessageTrace {
  historyId: string;
  messageId: string;
  published: number;
  received: number;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      messages: { type: 'string', default: '300' },
      bursts: { type: 'string', default: '4' },
      'burst-size': { type: 'string', default: '25' },
      'pause-ms': { type: 'string', default: '100' },
    },
  });
  const singles = positiveInteger('--messages', values.messages);
  const bursts = positiveInteger('--bursts', values.bursts);
  const burstSize = positiveInteger('--burst-size', values['burst-size']);
  const pauseMs = positiveInteger('--pause-ms', values['pause-ms']);
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const loadBefore = os.loadavg();
  const started = Date.now();

  // 1. The dev stack, a webhook mailbox started through the API, and the floor workflows.
  const stack = await startStack();
  try {
    const emailAddress = `bench-${randomUUID().slice(0, 8)}@example.com`;
    const mailbox = await startWebhookMailbox(stack, emailAddress);
    const floor = await startFloor(stack);

    // 2. Warm-up, not measured.
    for (let i = 0; i < WARMUP; i++) {
      await sendSingle(stack, emailAddress);
      await floor.sample('local');
      await floor.sample('regular');
    }
    await settle(mailbox);

    // 3. Single messages, each with its own push, alternating with floor samples.
    const floorMs: Record<FloorActivityKind, number[]> = { local: [], regular: [] };
    const traces: MessageTrace[] = [];
    const loopDelay = monitorEventLoopDelay({ resolution: LOOP_DELAY_RESOLUTION_MS });
    loopDelay.enable();
    const single = await measurePhase(stack, mailbox, emailAddress, `${singles} single messages, ${pauseMs} ms apart`, async (latencies) => {
      for (let i = 0; i < singles; i++) {
        const trace = await sendSingle(stack, emailAddress);
        traces.push(trace);
        latencies.push(trace.latencyMs);
        await sleep(pauseMs);
        floorMs.local.push(await floor.sample('local'));
        await sleep(pauseMs);
        floorMs.regular.push(await floor.sample('regular'));
        await sleep(pauseMs);
      }
    });
    loopDelay.disable();
    // The histogram records the time between samples, so an idle loop shows the resolution itself.
    const beyondResolution = (nanoseconds: number) => nanoseconds / 1e6 - LOOP_DELAY_RESOLUTION_MS;
    const eventLoopDelay = { p50: beyondResolution(loopDelay.percentile(50)), p99: beyondResolution(loopDelay.percentile(99)), max: beyondResolution(loopDelay.max) };
    const singleEvents = await mailboxEvents(mailbox);
    process.stdout.write(`single messages: p50 ${percentile(single.latenciesMs, 0.5).toFixed(1)} ms, p99 ${percentile(single.latenciesMs, 0.99).toFixed(1)} ms\n`);

    // 4. Bursts, each folded by Gmail into one push.
    const burst = await measurePhase(stack, mailbox, emailAddress, `${bursts} bursts of ${burstSize} messages`, async (latencies) => {
      for (let b = 0; b < bursts; b++) {
        stack.sandbox.advanceClock(ARRIVAL_GAP_MS);
        const sent = performance.now();
        const ids = Array.from({ length: burstSize }, (_, i) => stack.sandbox.deliverMessage(emailAddress, { subject: `burst ${b} message ${i}` }).id);
        const received = await Promise.all(ids.map((id) => stack.receiver.waitFor(id)));
        latencies.push(...received.map((arrival) => arrival.at - sent));
        await sleep(pauseMs);
      }
    });
    process.stdout.write(`bursts: p50 ${percentile(burst.latenciesMs, 0.5).toFixed(1)} ms, p99 ${percentile(burst.latenciesMs, 0.99).toFixed(1)} ms\n`);
    await floor.stop();

    // 5. Report.
    const report = renderReport({
      command: `npx tsx bench/delivery-costs.ts --messages ${singles} --bursts ${bursts} --burst-size ${burstSize} --pause-ms ${pauseMs}`,
      loadBefore,
      durationS: (Date.now() - started) / 1000,
      phases: [single, burst],
      floorMs,
      breakdown: latencyBreakdown(traces, stack.pushTimes, stack.gmailCalls, singleEvents),
      eventLoopDelay,
      duplicates: stack.receiver.duplicates(),
      badSignatures: stack.receiver.badSignatures,
    });
    const file = writeResults('delivery-costs.md', report);
    process.stdout.write(`\n${report}\nwritten to ${path.relative(process.cwd(), file)}\n`);
  } finally {
    await stack.stop();
  }
}

function positiveInteger(flag: string, raw: string | undefined): number {
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0) {
    throw new Error(`${flag} ${JSON.stringify(raw)} is invalid: expected a positive integer`);
  }
  return value;
}

/** Starts what `npm run dev` starts, on free ports, with the sandbox pushing signed pushes to the API. */
async function startStack(): Promise<Stack> {
  // 1. Temporal, the sandbox and the webhook receiver.
  const metricsPort = await freePort();
  const cli = await provisionTemporalCli();
  const env = await TestWorkflowEnvironment.createLocal({
    server: {
      executable: cli.kind === 'path' ? { type: 'existing-path', path: cli.path } : { type: 'cached-download' },
      searchAttributes: SEARCH_ATTRIBUTES,
      ip: '127.0.0.1',
      extraArgs: ['--metrics-port', String(metricsPort), '--namespace', FLOOR_NAMESPACE],
    },
  });
  const sandbox = await startSandbox({ port: 0, pushServiceAccountEmail: PUSH_SERVICE_ACCOUNT });
  const gmailCalls = new GmailCallTimings();
  gmailCalls.install(sandbox.url);
  const receiver = await new TimedWebhookReceiver(WEBHOOK_SECRET).start();
  const taskQueue = `bench-${randomUUID()}`;

  // 2. The product worker; the webhook secret reaches it through its environment, as in production.
  const config = loadConfig(
    withDevPayloadEncryptionDefault({
      GMAIL_SYNC_TASK_QUEUE: taskQueue,
      GMAIL_SYNC_GMAIL_SANDBOX_URL: sandbox.url,
      GMAIL_SYNC_LOG_LEVEL: 'warn',
      [`GMAIL_SYNC_WEBHOOK_SECRET_${WEBHOOK_SECRET_REF}`]: WEBHOOK_SECRET,
    }),
  );
  const client = createClient(env.connection, config);
  const worker = await createWorker({ connection: env.nativeConnection, config, client });
  const running = worker.run();

  // 3. The API, trusting the sandbox's signing key, with hooks that time each push.
  const gmail = createGmailProvider({ sandbox: createSandboxGmailProvider(sandbox.url) });
  const api = await buildApiServer({
    config: { ...config, apiToken: API_TOKEN, pushAudience: PUSH_AUDIENCE, pushServiceAccount: PUSH_SERVICE_ACCOUNT, pushCertsUrl: sandbox.pemCertsUrl },
    client,
    logger: pino({ level: 'warn' }),
    mailboxDefaults: { topicName: 'projects/gmail-sync-bench/topics/gmail-push', credential: { provider: 'sandbox' } },
    resolveMailboxAddress: (emailAddress, credential) => resolveMailboxAddress(gmail, emailAddress, credential),
  });
  const pushTimes = timePushes(api);
  const apiUrl = await api.app.listen({ port: 0, host: '127.0.0.1' });
  sandbox.configurePush({ endpoint: `${apiUrl}/pubsub/push`, audience: PUSH_AUDIENCE });

  return {
    env,
    metricsUrl: `http://127.0.0.1:${metricsPort}/metrics`,
    sandbox,
    api,
    apiUrl,
    client,
    receiver,
    pushTimes,
    gmailCalls,
    async stop() {
      await api.app.close();
      worker.shutdown();
      await running;
      await receiver.stop();
      await sandbox.stop();
      await env.teardown();
    },
  };
}

/** Records when each push reached the API and when the API responded, by the notification's historyId. */
function timePushes(api: ApiServer): Map<string, { arrived: number; responded: number }> {
  const times = new Map<string, { arrived: number; responded: number }>();
  const arrivals = new WeakMap<object, number>();
  api.app.addHook('onRequest', (request, _reply, done) => {
    arrivals.set(request, Date.now());
    done();
  });
  api.app.addHook('onResponse', (request, _reply, done) => {
    const historyId = request.url === '/pubsub/push' ? pushedHistoryId(request.body) : undefined;
    if (historyId !== undefined) {
      times.set(historyId, { arrived: arrivals.get(request) ?? Number.NaN, responded: Date.now() });
    }
    done();
  });
  return times;
}

/** Returns the historyId of a push body; the push route parses its body itself, so hooks see the raw text. */
function pushedHistoryId(body: unknown): string | undefined {
  if (typeof body !== 'string') {
    return undefined;
  }
  const data = (JSON.parse(body) as { message?: { data?: string } }).message?.data;
  return data === undefined ? undefined : /"historyId":"?(\d+)/.exec(Buffer.from(data, 'base64').toString('utf8'))?.[1];
}

/** Starts the mailbox through the API with the webhook target and waits for its first watch. */
async function startWebhookMailbox(stack: Stack, emailAddress: string): Promise<WorkflowHandle> {
  stack.sandbox.createMailbox({ emailAddress });
  const response = await fetch(`${stack.apiUrl}/v1/mailboxes`, {
    method: 'POST',
    headers: { authorization: `Bearer ${API_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ emailAddress, delivery: { target: 'webhook', webhookUrl: stack.receiver.url, webhookSecretRef: WEBHOOK_SECRET_REF } }),
  });
  if (response.status !== 201) {
    throw new Error(`POST /v1/mailboxes returned HTTP ${response.status}: ${await response.text()}`);
  }
  const handle = stack.client.workflow.getHandle(mailboxWorkflowId(emailAddress));
  // The first watch records its marker once it has set the cursor; waiting on the history sends no query.
  for (let attempt = 0; ; attempt++) {
    const events = (await handle.fetchHistory()).events ?? [];
    if (events.some((event) => event.eventType === EventType.EVENT_TYPE_MARKER_RECORDED)) {
      return handle;
    }
    if (attempt >= 300) {
      throw new Error(`mailbox ${emailAddress} recorded no first watch within 30 s`);
    }
    await sleep(100);
  }
}

/** Starts a worker and one floor workflow per activity kind, each getting one sandbox message per signal. */
async function startFloor(stack: Stack): Promise<Floor> {
  const emailAddress = `floor-${randomUUID().slice(0, 8)}@example.com`;
  stack.sandbox.createMailbox({ emailAddress });
  // No watch on this mailbox, so the message sends no push.
  const messageId = stack.sandbox.deliverMessage(emailAddress, { subject: 'floor' }).id;
  const gmail = createSandboxGmailProvider(stack.sandbox.url).client(emailAddress, { provider: 'sandbox' });
  const finished = new Map<string, (at: number) => void>();

  const taskQueue = `bench-floor-${randomUUID()}`;
  const worker = await Worker.create({
    connection: stack.env.nativeConnection,
    namespace: FLOOR_NAMESPACE,
    taskQueue,
    workflowsPath: require.resolve('./delivery-floor-workflow'),
    activities: {
      async fetchMessage(request: FloorFetch): Promise<void> {
        await gmail.users.messages.get({ userId: 'me', id: request.messageId, format: 'metadata', metadataHeaders: DEFAULT_METADATA_HEADERS });
        finished.get(request.sampleId)?.(performance.now());
      },
    },
  });
  const running = worker.run();
  const client = new Client({ connection: stack.env.connection, namespace: FLOOR_NAMESPACE });
  const handles = {
    local: await client.workflow.start(deliveryFloorWorkflow, { taskQueue, workflowId: `bench-floor-local-${randomUUID()}`, args: ['local'] }),
    regular: await client.workflow.start(deliveryFloorWorkflow, { taskQueue, workflowId: `bench-floor-regular-${randomUUID()}`, args: ['regular'] }),
  };

  return {
    async sample(kind) {
      const sampleId = randomUUID();
      const done = new Promise<number>((resolve) => finished.set(sampleId, resolve));
      const sent = performance.now();
      await handles[kind].signal(floorFetchSignal, { sampleId, messageId });
      const at = await withTimeout(done, 30_000, `floor sample ${sampleId} (${kind})`);
      finished.delete(sampleId);
      return at - sent;
    },
    async stop() {
      await Promise.all(Object.values(handles).map((handle) => handle.terminate('benchmark finished')));
      worker.shutdown();
      await running;
    },
  };
}

/** Delivers one message after a gap of more than a second of sandbox time, so it gets its own push, and waits for the webhook. */
async function sendSingle(stack: Stack, emailAddress: string): Promise<MessageTrace & { latencyMs: number }> {
  stack.sandbox.advanceClock(ARRIVAL_GAP_MS);
  const published = Date.now();
  const sent = performance.now();
  const message = stack.sandbox.deliverMessage(emailAddress, { subject: 'single' });
  const arrival = await stack.receiver.waitFor(message.id);
  return { historyId: message.historyId, messageId: message.id, published, received: arrival.wallAt, latencyMs: arrival.at - sent };
}

/** Runs one traffic phase and counts its Gmail quota, Temporal actions and deliveryWorkflows. */
async function measurePhase(
  stack: Stack,
  mailbox: WorkflowHandle,
  emailAddress: string,
  name: string,
  traffic: (latencies: number[]) => Promise<void>,
): Promise<PhaseFigures> {
  const before = await settle(mailbox);
  const quotaBefore = stack.sandbox.getCounters(emailAddress);
  await sleep(METRICS_FLUSH_MS);
  const serverBefore = await serverCounters(stack.metricsUrl);
  const receivedBefore = stack.receiver.count();
  const deliveryWorkflowsBefore = await deliveryWorkflowActions(stack.client);
  const latenciesMs: number[] = [];

  await traffic(latenciesMs);

  const after = await settle(mailbox);
  if (after.runId !== before.runId) {
    throw new Error(`mailbox workflow continued as new during "${name}"; run fewer messages so that one run's history covers the phase`);
  }
  const quotaAfter = stack.sandbox.getCounters(emailAddress);
  await sleep(METRICS_FLUSH_MS);
  const serverAfter = await serverCounters(stack.metricsUrl);
  const deliveryWorkflowsAfter = await deliveryWorkflowActions(stack.client);
  return {
    name,
    messages: stack.receiver.count() - receivedBefore,
    pushes: quotaAfter.notifications.published - quotaBefore.notifications.published,
    quota: difference(quotaAfter, quotaBefore),
    actions: addActions(countActions(after.events.slice(before.events.length)), deliveryWorkflowsAfter.actions),
    serverActions: countersDifference(serverAfter.actions, serverBefore.actions),
    heartbeats: serverAfter.heartbeats - serverBefore.heartbeats,
    deliveryWorkflows: deliveryWorkflowsAfter.count - deliveryWorkflowsBefore.count,
    latenciesMs,
  };
}

/**
 * Waits until the mailbox workflow has no workflow task pending and its
 * history stopped growing, then returns that history.
 */
async function settle(mailbox: WorkflowHandle): Promise<{ runId: string; events: HistoryEvent[] }> {
  let previousLength = -1;
  for (let attempt = 0; attempt < 300; attempt++) {
    const history = await mailbox.fetchHistory();
    const events = history.events ?? [];
    const types = events.map((event) => event.eventType);
    const lastScheduled = types.lastIndexOf(EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED);
    const lastCompleted = types.lastIndexOf(EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED);
    if (lastCompleted > lastScheduled && events.length === previousLength) {
      const runId = (await mailbox.describe()).runId;
      return { runId, events };
    }
    previousLength = events.length;
    await sleep(100);
  }
  throw new Error('the mailbox workflow did not settle within 30 s');
}

async function mailboxEvents(mailbox: WorkflowHandle): Promise<HistoryEvent[]> {
  return (await mailbox.fetchHistory()).events ?? [];
}

/** Counts the deliveryWorkflows in the namespace and the actions of their histories; none are expected on the happy path. */
async function deliveryWorkflowActions(client: Client): Promise<{ count: number; actions: ActionCounts }> {
  let actions = countActions([]);
  let count = 0;
  for await (const execution of client.workflow.list({ query: `WorkflowType = 'deliveryWorkflow'` })) {
    const history = await client.workflow.getHandle(execution.workflowId, execution.runId).fetchHistory();
    actions = addActions(actions, countActions(history.events ?? []));
    count += 1;
  }
  return { count, actions };
}

/**
 * Reads the dev server's Prometheus counters of the default namespace: its
 * `action` counter by action type, which Temporal Server keeps as an estimate
 * of Temporal Cloud actions, and the activity heartbeats it received.
 */
async function serverCounters(metricsUrl: string): Promise<{ actions: Record<string, number>; heartbeats: number }> {
  const text = await (await fetch(metricsUrl)).text();
  const actions: Record<string, number> = {};
  let heartbeats = 0;
  for (const line of text.split('\n')) {
    const action = /^action\{(.*)\} (\S+)$/.exec(line);
    if (action && action[1].includes('namespace="default"')) {
      const type = /action_type="([^"]+)"/.exec(action[1])?.[1] ?? 'unknown';
      actions[type] = (actions[type] ?? 0) + Number(action[2]);
    }
    const request = /^service_requests\{(.*)\} (\S+)$/.exec(line);
    if (request && request[1].includes('namespace="default"') && request[1].includes('operation="RecordActivityTaskHeartbeat"') && request[1].includes('service_name="frontend"')) {
      heartbeats += Number(request[2]);
    }
  }
  return { actions, heartbeats };
}

function countersDifference(after: Record<string, number>, before: Record<string, number>): Record<string, number> {
  const delta: Record<string, number> = {};
  for (const [key, value] of Object.entries(after)) {
    if (value - (before[key] ?? 0) > 0) {
      delta[key] = value - (before[key] ?? 0);
    }
  }
  return delta;
}

/** Returns a free loopback port; the server started next binds it. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

function difference(after: CounterSnapshot, before: CounterSnapshot): CounterSnapshot {
  const calls: CounterSnapshot['calls'] = {};
  for (const [method, value] of Object.entries(after.calls) as [keyof CounterSnapshot['calls'], number][]) {
    const delta = value - (before.calls[method] ?? 0);
    if (delta > 0) {
      calls[method] = delta;
    }
  }
  return { ...after, calls, quotaUnits: after.quotaUnits - before.quotaUnits, tokenRefreshes: after.tokenRefreshes - before.tokenRefreshes };
}

/** One segment of single messages' latency, with a value per message. */
interface Breakdown {
  segment: string;
  values: number[];
}

/**
 * Splits each single message's latency using the API's push timings and the
 * server's event times of the notify signal and the workflow task that
 * started next. All are wall-clock milliseconds of this machine.
 */
function latencyBreakdown(
  traces: MessageTrace[],
  pushTimes: Map<string, { arrived: number; responded: number }>,
  gmailCalls: GmailCallTimings,
  events: HistoryEvent[],
): Breakdown[] {
  const taskStartedAfterSignal = new Map<string, number>();
  events.forEach((event, index) => {
    if (event.eventType !== EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED) {
      return;
    }
    // Payloads are plain JSON because payload encryption is off, as under `npm run dev`.
    const payload = event.workflowExecutionSignaledEventAttributes?.input?.payloads?.[0];
    const historyId = payload?.data ? /"historyId":"(\d+)"/.exec(Buffer.from(payload.data).toString('utf8'))?.[1] : undefined;
    const started = events.slice(index + 1).find((later) => later.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED);
    if (historyId !== undefined && started?.eventTime) {
      taskStartedAfterSignal.set(historyId, eventTimeMs(started.eventTime));
    }
  });

  const segments: Breakdown[] = [
    { segment: 'sandbox publishes → push request reaches the API', values: [] },
    { segment: 'push request reaches the API → workflow task started (token check, signal, task dispatch)', values: [] },
    { segment: 'workflow task started → history.list response (local activity start, token, call)', values: [] },
    { segment: 'history.list response → messages.get response', values: [] },
    { segment: 'messages.get response → webhook received (event, signature, POST)', values: [] },
    { segment: 'push request reaches the API → API responds (overlaps the rows above)', values: [] },
  ];
  for (const trace of traces) {
    const push = pushTimes.get(trace.historyId);
    const taskStarted = taskStartedAfterSignal.get(trace.historyId);
    const messageGet = gmailCalls.messagesGet.get(trace.messageId);
    const historyList = messageGet === undefined ? undefined : gmailCalls.historyListBefore(messageGet);
    if (push === undefined || taskStarted === undefined || messageGet === undefined || historyList === undefined) {
      continue;
    }
    segments[0].values.push(push.arrived - trace.published);
    segments[1].values.push(taskStarted - push.arrived);
    segments[2].values.push(historyList - taskStarted);
    segments[3].values.push(messageGet - historyList);
    segments[4].values.push(trace.received - messageGet);
    segments[5].values.push(push.responded - push.arrived);
  }
  return segments;
}

function eventTimeMs(time: temporal.api.history.v1.IHistoryEvent['eventTime']): number {
  return Number(time?.seconds ?? 0) * 1000 + Math.floor((time?.nanos ?? 0) / 1e6);
}

interface ReportInput {
  command: string;
  loadBefore: number[];
  durationS: number;
  phases: PhaseFigures[];
  floorMs: Record<FloorActivityKind, number[]>;
  breakdown: Breakdown[];
  /** Event loop delay of this process during the single messages, in milliseconds. */
  eventLoopDelay: { p50: number; p99: number; max: number };
  duplicates: number;
  badSignatures: number;
}

function renderReport(input: ReportInput): string {
  const cpus = os.cpus();
  const [single] = input.phases;
  const all = input.phases.reduce(
    (sum, phase) => ({ messages: sum.messages + phase.messages, units: sum.units + phase.quota.quotaUnits, actions: sum.actions + billedActions(phase) }),
    { messages: 0, units: 0, actions: 0 },
  );
  const floorP99 = percentile(input.floorMs.local, 0.99);
  const ratio = percentile(single.latenciesMs, 0.99) / floorP99;
  const perMessage = (value: number, messages: number) => (messages === 0 ? 'n/a' : (value / messages).toFixed(2));

  const lines = [
    '# Delivery costs',
    '',
    `Command: \`${input.command}\``,
    `Run: ${new Date().toISOString()}, ${input.durationS.toFixed(0)} s, Node ${process.version}, ${cpus.length} × ${cpus[0]?.model ?? 'unknown CPU'}, ${os.platform()} ${os.release()}.`,
    `Load average before the run: ${input.loadBefore.map((load) => load.toFixed(2)).join(', ')} (1, 5, 15 minutes); other processes share the cores.`,
    'Setup: Temporal dev server (temporal server start-dev, SQLite in memory), the product worker, the Gmail sandbox over HTTP pushing',
    'signed OIDC pushes to the API, and a webhook receiver, all on loopback; worker, API, sandbox and receiver share one Node process.',
    'The mailbox is started through POST /v1/mailboxes with the webhook target, and messages are fetched with format `metadata`.',
    '',
    '## Per delivered message',
    '',
    '| traffic | messages | pushes | Gmail calls | quota units per message | actions | actions per message | server action counter | deliveryWorkflows |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...input.phases.map(
      (phase) =>
        `| ${phase.name} | ${phase.messages} | ${phase.pushes} | ${formatCalls(phase.quota)} | ${perMessage(phase.quota.quotaUnits, phase.messages)} | ${formatActions(phase)} | ${perMessage(billedActions(phase), phase.messages)} | ${formatCounter(phase.serverActions)} | ${phase.deliveryWorkflows} |`,
    ),
    `| all | ${all.messages} | | | ${perMessage(all.units, all.messages)} | ${all.actions} | ${perMessage(all.actions, all.messages)} | | |`,
    '',
    `Quota units per delivered message, all traffic: **${perMessage(all.units, all.messages)}** (target: at most ${TARGET_QUOTA_UNITS}).`,
    `Temporal actions per delivered message, all traffic: **${perMessage(all.actions, all.messages)}** (target: below ${TARGET_ACTIONS}).`,
    `Actions per push: ${input.phases.map((phase) => `${perMessage(billedActions(phase), phase.pushes)} (${phase.name})`).join(', ')}.`,
    'Each push costs at least one signal and one workflow task whose quick sync records its local activity marker, so a message that',
    `arrives alone costs 2 actions, and the average falls below ${TARGET_ACTIONS} only where a push covers more than ${2 / TARGET_ACTIONS} messages.`,
    'A push whose sync finds more changes than the quick sync delivers also runs the regular sync activity: one more activity,',
    'its heartbeats, and a second history.list.',
    `The webhook received ${input.duplicates} repeated delivery ids and ${input.badSignatures} requests with a bad signature.`,
    '',
    ACTION_COUNTING_RULE,
    'Activity heartbeats are billed but leave no event, so they are the RecordActivityTaskHeartbeat requests that the dev server counted',
    'for the default namespace. The floor workflows run in their own namespace, so that the server action counter column is the',
    "dev server's own `action` metric for the mailbox alone; it is a cross-check, and its local activity entries need not match billing.",
    'Setup before the measured traffic (workflow start, first watch, warm-up messages) is not counted.',
    '',
    '## Push-to-delivered latency',
    '',
    'From the sandbox publishing the push (its `deliverMessage` publishes in the same call) to the webhook receiver reading the request.',
    'The floor is timed from the signal call to the end of the activity\'s messages.get, one sample after each single message.',
    '',
    '| path | samples | p50 ms | p99 ms | max ms |',
    '| --- | --- | --- | --- | --- |',
    ...input.phases.map((phase) => latencyRow(`push to webhook, ${phase.name}`, phase.latenciesMs)),
    latencyRow('floor: signal, local activity, messages.get', input.floorMs.local),
    latencyRow('floor: signal, activity task, messages.get', input.floorMs.regular),
    '',
    `Single messages p99 / floor p99 (local activity, as the quick sync runs): **${ratio.toFixed(2)}** (target: at most ${TARGET_LATENCY_RATIO});`,
    `against the floor with an activity task: ${(percentile(single.latenciesMs, 0.99) / percentile(input.floorMs.regular, 0.99)).toFixed(2)}.`,
    '',
    'Single messages, split by segment (wall-clock times of this machine, milliseconds):',
    '',
    '| segment | p50 | p99 |',
    '| --- | --- | --- |',
    ...input.breakdown.map((segment) => `| ${segment.segment} | ${percentile(segment.values, 0.5).toFixed(1)} | ${percentile(segment.values, 0.99).toFixed(1)} |`),
    '',
    `Event loop delay of the process that runs worker, API, sandbox and receiver, beyond its ${LOOP_DELAY_RESOLUTION_MS} ms sampling interval, during the single messages: p50 ${input.eventLoopDelay.p50.toFixed(1)} ms,`,
    `p99 ${input.eventLoopDelay.p99.toFixed(1)} ms, max ${input.eventLoopDelay.max.toFixed(1)} ms.`,
    `The p99 of ${single.latenciesMs.length} samples is decided by the ${Math.ceil(single.latenciesMs.length / 100)} slowest; the segment with the largest p99 is "${slowestSegment(input.breakdown)}".`,
    'Product and floor samples alternate, so both see the same load from other processes on the cores.',
    `Samples over ${SLOW_SAMPLE_MS} ms: single messages ${countOver(single.latenciesMs)} of ${single.latenciesMs.length},`,
    `floor with a local activity ${countOver(input.floorMs.local)} of ${input.floorMs.local.length}, floor with an activity task ${countOver(input.floorMs.regular)} of ${input.floorMs.regular.length}.`,
    '',
  ];
  return lines.join('\n');
}

function latencyRow(name: string, values: number[]): string {
  return `| ${name} | ${values.length} | ${percentile(values, 0.5).toFixed(1)} | ${percentile(values, 0.99).toFixed(1)} | ${Math.max(...values).toFixed(1)} |`;
}

function formatCalls(quota: CounterSnapshot): string {
  return Object.entries(quota.calls)
    .map(([method, calls]) => `${method} ${calls}`)
    .join(', ');
}

function countOver(values: number[]): number {
  return values.filter((value) => value > SLOW_SAMPLE_MS).length;
}

function slowestSegment(breakdown: Breakdown[]): string {
  const [slowest] = [...breakdown].sort((a, b) => percentile(b.values, 0.99) - percentile(a.values, 0.99));
  return slowest?.segment ?? 'none';
}

/** Actions from the histories plus the heartbeats the server received. */
function billedActions(phase: PhaseFigures): number {
  return phase.actions.total + phase.heartbeats;
}

function formatCounter(counter: Record<string, number>): string {
  const total = Object.values(counter).reduce((sum, value) => sum + value, 0);
  const parts = Object.entries(counter).map(([type, value]) => `${type.replace(/^grpc_/, '')} ${value}`);
  return `${total} (${parts.join(', ')})`;
}

function formatActions(phase: PhaseFigures): string {
  const actions = phase.actions;
  const parts = [
    `signals ${actions.signals}`,
    `local activity tasks ${actions.localActivityTasks}`,
    `activities ${actions.activities}`,
    `timers ${actions.timers}`,
    `upserts ${actions.searchAttributeUpserts}`,
    `starts ${actions.workflowStarts}`,
    `updates ${actions.updates}`,
    `other ${actions.other}`,
    `heartbeats ${phase.heartbeats}`,
  ];
  return `${billedActions(phase)} (${parts.join(', ')})`;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function withTimeout<T>(promise: Promise<T>, ms: number, description: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${description} timed out after ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});

