import { randomUUID } from 'node:crypto';

import { WorkflowFailedError } from '@temporalio/client';
import type { Worker } from '@temporalio/worker';

import { failuresQuery } from '../../src/api/delivery-failures';
import type { ApiServer } from '../../src/api/server';
import { loadConfig } from '../../src/config';
import { createSandboxGmailProvider } from '../../src/gmail';
import { startSandbox, type Sandbox } from '../../src/sandbox';
import { createClient } from '../../src/temporal/connection';
import { resyncMailbox, startMailbox, syncMailbox } from '../../src/temporal/mailbox-client';
import { createWorker } from '../../src/worker';
import { deliveryWorkflowId } from '../../workflows/delivery/types';
import { stopUpdate } from '../../workflows/mailbox/messages';
import { mailboxWorkflowId, type DeliveryOptions } from '../../workflows/mailbox/types';
import { API_TOKEN, startApiHarness, type ApiHarness } from '../api/helpers/api-harness';
import { WebhookReceiver } from '../helpers/webhook-receiver';
import { waitForState } from './mailbox-harness';

const auth = { authorization: `Bearer ${API_TOKEN}` };

/** Makes the receiver return 503 until the reactions are cleared. */
function takeReceiverDown(receiver: WebhookReceiver): void {
  receiver.reactions.push(...Array.from({ length: 1000 }, () => 503));
}

describe('deliveryWorkflow', () => {
  let harness: ApiHarness;
  let api: ApiServer;
  let sandbox: Sandbox;
  let receiver: WebhookReceiver;
  let worker: Worker;
  let running: Promise<void>;

  const taskQueue = `delivery-${randomUUID().slice(0, 8)}`;
  const config = loadConfig({
    GMAIL_SYNC_TASK_QUEUE: taskQueue,
    GMAIL_SYNC_LOG_LEVEL: 'warn',
    GMAIL_SYNC_PAYLOAD_ENCRYPTION: 'off',
    GMAIL_SYNC_DELIVERY_TIMEOUT_MS: '300',
    GMAIL_SYNC_WEBHOOK_SECRET_BILLING: 'delivery-failures-signing-secret',
    // A short schedule, so the deliveryWorkflow fails within the test: three attempts 100 ms apart.
    GMAIL_SYNC_DELIVERY_RETRY_INITIAL_MS: '100',
    GMAIL_SYNC_DELIVERY_RETRY_BACKOFF: '1',
    GMAIL_SYNC_DELIVERY_RETRY_MAX_INTERVAL_MS: '100',
    GMAIL_SYNC_DELIVERY_RETRY_MAX_ATTEMPTS: '3',
    GMAIL_SYNC_DELIVERY_RETRY_SCHEDULE_TO_CLOSE_MS: '60000',
    GMAIL_SYNC_DELIVERY_RETRY_ATTEMPT_TIMEOUT_MS: '5000',
  });

  beforeAll(async () => {
    harness = await startApiHarness({ worker: false });
    api = await harness.startApi();
    sandbox = await startSandbox({ port: 0 });
    receiver = await new WebhookReceiver().start();
    worker = await createWorker({
      connection: harness.env.nativeConnection,
      config,
      gmail: createSandboxGmailProvider(sandbox.url),
      client: createClient(harness.env.connection, config),
    });
    running = worker.run();
  }, 120_000);

  afterAll(async () => {
    worker?.shutdown();
    await running;
    await receiver?.stop();
    await sandbox?.stop();
    await harness?.teardown();
  });

  /** Polls the failures route until it lists `messageId`, because visibility is eventually consistent. */
  async function waitForListedFailure(emailAddress: string, messageId: string): Promise<Record<string, unknown>> {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const response = await api.app.inject({ method: 'GET', url: `/v1/mailboxes/${emailAddress}/failures?pageSize=10`, headers: auth });
      expect(response.statusCode).toBe(200);
      const body = response.json<{ failures: Array<Record<string, unknown>> }>();
      const failure = body.failures.find((entry) => entry.messageId === messageId);
      if (failure !== undefined || Date.now() > deadline) {
        return failure ?? body;
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }

  /** Starts a mailbox with the webhook target and waits for its first cursor. */
  async function startWebhookMailbox(prefix: string, options: DeliveryOptions) {
    const emailAddress = `${prefix}-${randomUUID().slice(0, 8)}@example.com`;
    const startHistoryId = sandbox.createMailbox({ emailAddress }).historyId;
    await startMailbox(harness.env.client, taskQueue, {
      emailAddress,
      watch: { topicName: 'projects/gmail-sync-test/topics/delivery-failures' },
      credential: { provider: 'sandbox' },
      delivery: { target: 'webhook', webhookUrl: receiver.url, webhookSecretRef: 'billing', ...options },
    });
    const mailbox = harness.env.client.workflow.getHandle(mailboxWorkflowId(emailAddress));
    await waitForState(mailbox, (state) => state.historyId === startHistoryId);
    return { emailAddress, startHistoryId, mailbox };
  }

  it('hands off, fails, lists and replays a message', async () => {
    const client = harness.env.client;
    const { emailAddress, startHistoryId, mailbox } = await startWebhookMailbox('delivery', {});
    takeReceiverDown(receiver);
    const message = sandbox.deliverMessage(emailAddress);
    const workflowId = deliveryWorkflowId(emailAddress, message.id);
    const deliveryId = `${emailAddress}/${message.id}`;

    // 1. The sync cannot deliver within its budget, hands the message off and moves its cursor on.
    const first = await syncMailbox(client, emailAddress);
    expect(first.counts.handedOff).toBe(1);
    expect(first.counts.failed).toBe(1);
    expect(first.counts.delivered).toBe(0);
    expect(first.historyId).toBe(message.historyId);
    const handle = client.workflow.getHandle(workflowId);
    const started = await handle.describe();
    expect(started.type).toBe('deliveryWorkflow');
    expect(started.taskQueue).toBe(taskQueue);
    expect(started.searchAttributes.GmailEmailAddress).toEqual([emailAddress]);
    const history = await handle.fetchHistory();
    expect(JSON.stringify(history)).not.toContain('delivery-failures-signing-secret');

    // 2. With the target still down, the short retry policy runs out and the workflow fails.
    await expect(handle.result()).rejects.toBeInstanceOf(WorkflowFailedError);
    expect((await handle.describe()).status.name).toBe('FAILED');
    expect(receiver.deliveryIds().every((id) => id === deliveryId)).toBe(true);

    // 3. A second sync of the same message neither starts another workflow nor reruns the failed one.
    const second = await resyncMailbox(client, emailAddress, { startHistoryId });
    expect(second.counts.alreadyHandedOff).toBe(1);
    expect(second.counts.handedOff ?? 0).toBe(0);
    const afterResync = await handle.describe();
    expect(afterResync.runId).toBe(started.runId);
    expect(afterResync.status.name).toBe('FAILED');

    // 4. The failures route lists it.
    const listed = await waitForListedFailure(emailAddress, message.id);
    expect(listed).toMatchObject({ messageId: message.id, workflowId, runId: started.runId, closeTime: expect.any(String) as string });

    // 5. After the receiver recovers, replay reruns it under the same id, and it delivers with the same delivery id.
    receiver.reactions.length = 0;
    const receivedBefore = receiver.received.length;
    const replay = await api.app.inject({ method: 'POST', url: `/v1/mailboxes/${emailAddress}/replay-failures`, headers: auth, payload: {} });
    expect(replay.statusCode).toBe(200);
    const replayed = replay.json<{ restarted: Array<{ messageId: string; workflowId: string; runId: string }>; skipped: unknown[] }>();
    expect(replayed.restarted).toEqual([{ messageId: message.id, workflowId, runId: expect.any(String) as string }]);
    expect(replayed.restarted[0].runId).not.toBe(started.runId);
    expect(replayed.skipped).toEqual([]);
    expect(await client.workflow.getHandle(workflowId, replayed.restarted[0].runId).result()).toBe('delivered');
    expect(receiver.deliveryIds().slice(receivedBefore)).toEqual([deliveryId]);
    const listedAfterReplay = await api.app.inject({ method: 'GET', url: `/v1/mailboxes/${emailAddress}/failures?pageSize=10`, headers: auth });
    expect(listedAfterReplay.json<{ failures: unknown[] }>().failures).toEqual([]);

    // 6. A completed delivery and an unknown message are skipped.
    const again = await api.app.inject({
      method: 'POST',
      url: `/v1/mailboxes/${emailAddress}/replay-failures`,
      headers: auth,
      payload: { messageIds: [message.id, 'ffff0000'] },
    });
    expect(again.statusCode).toBe(200);
    expect(again.json()).toEqual({
      restarted: [],
      skipped: [
        { messageId: message.id, workflowId, reason: 'notFailed' },
        { messageId: 'ffff0000', workflowId: deliveryWorkflowId(emailAddress, 'ffff0000'), reason: 'notFound' },
      ],
    });

    await mailbox.executeUpdate(stopUpdate);
  }, 90_000);

  it('hands off, fails, lists and replays a batch of label events', async () => {
    const client = harness.env.client;
    const { emailAddress, mailbox } = await startWebhookMailbox('batch', { includeLabelEvents: true });
    const message = sandbox.deliverMessage(emailAddress);
    await syncMailbox(client, emailAddress);
    takeReceiverDown(receiver);
    sandbox.modifyLabels(emailAddress, message.id, { addLabelIds: ['STARRED'] });
    const receivedBefore = receiver.received.length;

    // 1. The batch cannot be delivered within its budget, so it is handed off and the cursor moves on.
    const sync = await syncMailbox(client, emailAddress);
    expect(sync.counts).toMatchObject({ eventBatches: 1, handedOff: 1, failed: 1 });
    expect(sync.historyId).toBe(sandbox.getMailbox(emailAddress).historyId);
    const sent = JSON.parse(receiver.received[receivedBefore].body) as { kind: string; batchKey: string; events: Array<{ deliveryId: string }> };
    expect(sent.kind).toBe('batch');
    const workflowId = deliveryWorkflowId(emailAddress, sent.batchKey);

    // 2. It fails after its retries and is listed under its batch key.
    await expect(client.workflow.getHandle(workflowId).result()).rejects.toBeInstanceOf(WorkflowFailedError);
    expect(await waitForListedFailure(emailAddress, sent.batchKey)).toMatchObject({ messageId: sent.batchKey, workflowId });

    // 3. After the receiver recovers, replay sends the same events again.
    receiver.reactions.length = 0;
    const receivedBeforeReplay = receiver.received.length;
    const replay = await api.app.inject({ method: 'POST', url: `/v1/mailboxes/${emailAddress}/replay-failures`, headers: auth, payload: { messageIds: [sent.batchKey] } });
    expect(replay.statusCode).toBe(200);
    const [restarted] = replay.json<{ restarted: Array<{ runId: string }> }>().restarted;
    expect(await client.workflow.getHandle(workflowId, restarted.runId).result()).toBe('delivered');
    const resent = receiver.received.slice(receivedBeforeReplay);
    expect(resent).toHaveLength(1);
    expect((JSON.parse(resent[0].body) as typeof sent).events.map((event) => event.deliveryId)).toEqual(sent.events.map((event) => event.deliveryId));

    await mailbox.executeUpdate(stopUpdate);
  }, 90_000);

  it('failures route requires the bearer token', async () => {
    const response = await api.app.inject({ method: 'GET', url: '/v1/mailboxes/someone@example.com/failures' });

    expect(response.statusCode).toBe(401);
  });

  it('replay-failures rejects an invalid message id', async () => {
    const response = await api.app.inject({
      method: 'POST',
      url: '/v1/mailboxes/someone@example.com/replay-failures',
      headers: auth,
      payload: { messageIds: ["x' OR 1=1"] },
    });

    expect(response.statusCode).toBe(400);
  });

  it('failures query escapes the address', () => {
    expect(failuresQuery("O'Brien\\x@example.com")).toBe(
      "WorkflowType = 'deliveryWorkflow' AND ExecutionStatus = 'Failed' AND GmailEmailAddress = 'o\\'brien\\\\x@example.com'",
    );
  });
});
