/**
 * A worker killed in the middle of a batch, end to end. The worker runs in a
 * child process against a Temporal dev server, and 30 messages reach the
 * Gmail sandbox at once, for a slow webhook receiver on loopback. The worker
 * gets SIGKILL while the heartbeating sync delivers them, and a fresh worker
 * process must finish the batch from the last heartbeat.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';

import { decodeFromPayloadsAtIndex } from '@temporalio/common/lib/internal-non-workflow';
import { temporal } from '@temporalio/proto';

import type { DeliveryEvent } from '../../activities/delivery';
import { mailboxWorkflowId, type SyncResume } from '../../workflows/mailbox/types';
import { WebhookReceiver, type ReceivedWebhook } from '../helpers/webhook-receiver';
import { eventually, startDevStack, type DevStack } from './dev-stack-harness';
import { TEST_HEARTBEAT_TIMEOUT_MS } from './short-heartbeat-interceptor';

const MESSAGES = 30;
/** The quick sync delivers this many before the heartbeating sync takes over (QUICK_SYNC_MAX_CHANGES). */
const QUICK_SYNC_CHANGES = 10;
/** The kill waits until a heartbeat reports this many finished, so it lands in the middle of the heartbeating sync. */
const FINISHED_BEFORE_KILL = 14;

const HEARTBEAT = temporal.api.enums.v1.TimeoutType.TIMEOUT_TYPE_HEARTBEAT;

/** A worker child process and its output, kept for the failure message. */
interface WorkerProcess {
  child: ChildProcess;
  output: string[];
}

describe('worker killed in the middle of a batch', () => {
  let stack: DevStack;
  let receiver: WebhookReceiver;
  const workers: WorkerProcess[] = [];

  beforeAll(async () => {
    stack = await startDevStack(
      {
        GMAIL_SYNC_WEBHOOK_SECRET_E2E: 'e2e-worker-kill-signing-secret',
        // Two deliveries at a time to a receiver that takes 600 ms each, so the batch takes seconds.
        GMAIL_SYNC_DELIVERY_CONCURRENCY: '2',
        GMAIL_SYNC_DELIVERY_TIMEOUT_MS: '5000',
      },
      'none',
    );
    receiver = await new WebhookReceiver().start();
    receiver.chooseReaction = () => ({ delayMs: 600 });
  }, 120_000);

  afterAll(async () => {
    for (const worker of workers) {
      await stopWorkerProcess(worker, 'SIGTERM');
    }
    await receiver?.stop();
    await stack?.teardown();
  });

  /** Starts `worker-process.ts` with the stack's settings and resolves once it polls. */
  async function startWorkerProcess(): Promise<WorkerProcess> {
    const entry = path.resolve(__dirname, 'worker-process.ts');
    const child = spawn(process.execPath, ['--import', 'tsx', entry], {
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...stack.config.env, TEMPORAL_ADDRESS: stack.env.address },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const worker: WorkerProcess = { child, output: [] };
    workers.push(worker);
    await new Promise<void>((resolve, reject) => {
      const onOutput = (chunk: Buffer): void => {
        worker.output.push(chunk.toString('utf8'));
        if (worker.output.join('').includes('worker running')) {
          resolve();
        }
      };
      child.stdout.on('data', onOutput);
      child.stderr.on('data', onOutput);
      child.once('exit', (code, signal) => reject(new Error(`worker process exited with ${code ?? signal} before it ran:\n${worker.output.join('')}`)));
    });
    // Queries to a task queue that no worker polled yet fail, so wait for the server to see the poll.
    await eventually(async () => {
      const queue = await stack.client.workflowService.describeTaskQueue({
        namespace: stack.config.temporalNamespace,
        taskQueue: { name: stack.config.taskQueue },
        taskQueueType: temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
      });
      return (queue.pollers ?? []).some((poller) => poller.identity?.includes(String(child.pid)));
    });
    return worker;
  }

  async function stopWorkerProcess(worker: WorkerProcess, signal: NodeJS.Signals): Promise<void> {
    if (worker.child.exitCode !== null || worker.child.signalCode !== null) {
      return;
    }
    const exited = new Promise((resolve) => worker.child.once('exit', resolve));
    worker.child.kill(signal);
    await exited;
  }

  function eventOf(request: ReceivedWebhook): DeliveryEvent {
    return JSON.parse(request.body) as DeliveryEvent;
  }

  /** Reads the heartbeat details of the mailbox's running regular syncHistory activity, as the server stores them. */
  async function serverHeartbeat(emailAddress: string): Promise<SyncResume | undefined> {
    const description = await stack.client.workflow.getHandle(mailboxWorkflowId(emailAddress)).describe();
    const pending = description.raw.pendingActivities?.find((activity) => activity.activityType?.name === 'syncHistory');
    const payloads = pending?.heartbeatDetails?.payloads;
    if (!payloads?.length) {
      return undefined;
    }
    return decodeFromPayloadsAtIndex<SyncResume>(stack.client.options.loadedDataConverter, 0, payloads);
  }

  it('resumes the batch from its heartbeat', async () => {
    const emailAddress = `kill-${randomUUID().slice(0, 8)}@example.com`;
    stack.sandbox.createMailbox({ emailAddress });
    const firstWorker = await startWorkerProcess();
    const started = await stack.apiCall('POST', '/v1/mailboxes', {
      emailAddress,
      delivery: { target: 'webhook', webhookUrl: receiver.url, webhookSecretRef: 'e2e' },
    });
    expect(started.status).toBe(201);
    await eventually(async () => (await stack.mailboxState(emailAddress)).historyId !== null);

    // 1. Thirty messages arrive at once, so one sync reads them all: ten in the quick sync, the rest in the heartbeating one.
    const deliveryIds = Array.from({ length: MESSAGES }, (_, i) => `${emailAddress}/${stack.sandbox.deliverMessage(emailAddress, { subject: `batch ${i}` }).id}`);
    const finalHistoryId = stack.sandbox.getMailbox(emailAddress).historyId;

    // 2. SIGKILL once the server has stored a heartbeat past the quick sync's share and before the batch ends.
    let heartbeat: SyncResume | undefined;
    await eventually(async () => {
      heartbeat = await serverHeartbeat(emailAddress);
      return heartbeat !== undefined && heartbeat.finishedInPage >= FINISHED_BEFORE_KILL;
    }, 300);
    await stopWorkerProcess(firstWorker, 'SIGKILL');
    const receivedBeforeKill = receiver.received.length;
    const finishedAtKill = heartbeat!.finishedInPage;
    expect(finishedAtKill).toBeLessThan(MESSAGES);
    expect(receivedBeforeKill).toBeLessThan(MESSAGES + 2);

    // 3. A fresh worker process finishes the batch once the server times out the killed attempt.
    await startWorkerProcess();
    await eventually(() => Promise.resolve(deliveryIds.every((deliveryId) => receiver.deliveryIds().includes(deliveryId))), 600);
    await eventually(async () => (await stack.mailboxState(emailAddress)).historyId === finalHistoryId);

    // 4. Every message arrived, each request under its message's delivery id, and none more than twice.
    const requests = receiver.received.filter((request) => request.deliveryId.startsWith(`${emailAddress}/`));
    expect(new Set(requests.map((request) => request.deliveryId))).toEqual(new Set(deliveryIds));
    for (const request of requests) {
      expect(request.deliveryId).toBe(`${emailAddress}/${eventOf(request).messageId}`);
    }
    const timesSent = new Map<string, number>();
    requests.forEach((request) => timesSent.set(request.deliveryId, (timesSent.get(request.deliveryId) ?? 0) + 1));
    expect(Math.max(...timesSent.values())).toBeLessThanOrEqual(2);

    // 5. The retried attempt resumed at or after the heartbeat: it sent at most the changes the heartbeat had not finished.
    const sentAfterRestart = receiver.received.slice(receivedBeforeKill).filter((request) => request.deliveryId.startsWith(`${emailAddress}/`));
    expect(sentAfterRestart.length).toBeGreaterThan(0);
    expect(sentAfterRestart.length).toBeLessThanOrEqual(MESSAGES - finishedAtKill);
    expect(finishedAtKill).toBeGreaterThan(QUICK_SYNC_CHANGES);

    // 6. The history shows the heartbeating syncHistory retried once after a heartbeat timeout and then completed.
    const history = await stack.client.workflow.getHandle(mailboxWorkflowId(emailAddress)).fetchHistory();
    const events = history.events ?? [];
    const scheduled = events.find((event) => event.activityTaskScheduledEventAttributes?.heartbeatTimeout && event.activityTaskScheduledEventAttributes.activityType?.name === 'syncHistory');
    expect(scheduled).toBeDefined();
    expect(Number(scheduled!.activityTaskScheduledEventAttributes!.heartbeatTimeout!.seconds)).toBe(TEST_HEARTBEAT_TIMEOUT_MS / 1000);
    const startedEvent = events.find((event) => event.activityTaskStartedEventAttributes && Number(event.activityTaskStartedEventAttributes.scheduledEventId) === Number(scheduled!.eventId));
    expect(startedEvent!.activityTaskStartedEventAttributes!.attempt).toBe(2);
    expect(startedEvent!.activityTaskStartedEventAttributes!.lastFailure?.timeoutFailureInfo?.timeoutType).toBe(HEARTBEAT);
    const completed = events.find((event) => event.activityTaskCompletedEventAttributes && Number(event.activityTaskCompletedEventAttributes.scheduledEventId) === Number(scheduled!.eventId));
    expect(completed).toBeDefined();
  }, 90_000);
});
