import { randomBytes, randomUUID } from 'node:crypto';

import { Client, Connection } from '@temporalio/client';
import { METADATA_ENCODING_KEY, type Payload } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';

import { DeliveryError, type DeliveryEvent } from '../../activities';
import { ENCRYPTED_ENCODING } from '../../src/codec/encryption-codec';
import { loadConfig } from '../../src/config';
import { WorkflowDelivery } from '../../src/delivery/workflow-target';
import { createSandboxGmailProvider } from '../../src/gmail';
import { startSandbox, type Sandbox } from '../../src/sandbox';
import { createClient, createWorkflowTargetClient } from '../../src/temporal/connection';
import { resyncMailbox, startMailbox, syncMailbox } from '../../src/temporal/mailbox-client';
import { createWorker } from '../../src/worker';
import { deliveryWorkflowId } from '../../workflows/delivery/types';
import { mailboxWorkflowId, type DeliveryOptions } from '../../workflows/mailbox/types';
import { createDevServerEnv } from '../helpers/temporal';
import { WebhookReceiver } from '../helpers/webhook-receiver';
import type { ReceivedEvent } from '../user-workflows';
import { waitForState } from './mailbox-harness';

const USER_WORKFLOW = 'handleGmailEvent';

/** The encoding of a payload, such as json/plain or binary/encrypted. */
function encodingOf(payload: Payload | null | undefined): string {
  return Buffer.from(payload?.metadata?.[METADATA_ENCODING_KEY] ?? []).toString('utf8');
}

describe('workflow delivery target', () => {
  let env: TestWorkflowEnvironment;
  let sandbox: Sandbox;
  let receiver: WebhookReceiver;
  /** gmail-sync's client, which encrypts payloads like its worker. */
  let gmailSync: Client;
  let workers: Worker[];
  let running: Promise<void>[];

  const taskQueue = `workflow-target-${randomUUID().slice(0, 8)}`;
  const userTaskQueue = `user-handlers-${randomUUID().slice(0, 8)}`;
  const config = loadConfig({
    GMAIL_SYNC_TASK_QUEUE: taskQueue,
    GMAIL_SYNC_LOG_LEVEL: 'warn',
    GMAIL_SYNC_PAYLOAD_ENCRYPTION: 'on',
    GMAIL_SYNC_PAYLOAD_KEYS: `target-1:${randomBytes(32).toString('base64')}`,
    GMAIL_SYNC_DELIVERY_TIMEOUT_MS: '3000',
    GMAIL_SYNC_WEBHOOK_SECRET_BILLING: 'workflow-target-signing-secret',
    GMAIL_SYNC_DELIVERY_RETRY_INITIAL_MS: '100',
    GMAIL_SYNC_DELIVERY_RETRY_MAX_INTERVAL_MS: '100',
  });
  const workflowTarget: DeliveryOptions = { target: 'workflow', workflowType: USER_WORKFLOW, workflowTaskQueue: userTaskQueue };

  beforeAll(async () => {
    [env, sandbox, receiver] = await Promise.all([createDevServerEnv(), startSandbox({ port: 0 }), new WebhookReceiver().start()]);
    gmailSync = createClient(env.connection, config);
    workers = [
      await createWorker({ connection: env.nativeConnection, config, gmail: createSandboxGmailProvider(sandbox.url), client: gmailSync }),
      // The user's own worker, with Temporal's default data converter.
      await Worker.create({ connection: env.nativeConnection, taskQueue: userTaskQueue, workflowsPath: require.resolve('../user-workflows') }),
    ];
    running = workers.map((worker) => worker.run());
  }, 120_000);

  afterAll(async () => {
    workers?.forEach((worker) => worker.shutdown());
    await Promise.all(running ?? []);
    await receiver?.stop();
    await sandbox?.stop();
    await env?.teardown();
  });

  /** Starts a mailbox on gmail-sync's task queue and waits for its first cursor. */
  async function startWith(delivery: DeliveryOptions): Promise<{ emailAddress: string; start: string }> {
    const emailAddress = `target-${randomUUID().slice(0, 8)}@example.com`;
    const start = sandbox.createMailbox({ emailAddress }).historyId;
    await startMailbox(gmailSync, taskQueue, { emailAddress, watch: { topicName: 'projects/gmail-sync-test/topics/workflow-target' }, credential: { provider: 'sandbox' }, delivery });
    await waitForState(gmailSync.workflow.getHandle(mailboxWorkflowId(emailAddress)), (state) => state.historyId !== null);
    return { emailAddress, start };
  }

  /** Finds the user's workflows whose id starts with `prefix`, waiting for visibility to catch up. */
  async function userWorkflowIds(prefix: string, count: number): Promise<string[]> {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const ids: string[] = [];
      for await (const execution of env.client.workflow.list({ query: `WorkflowType = '${USER_WORKFLOW}'` })) {
        if (execution.workflowId.startsWith(prefix)) {
          ids.push(execution.workflowId);
        }
      }
      if (ids.length >= count || Date.now() > deadline) {
        return ids;
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  it("starts the user's workflow per message with the event readable by the default converter", async () => {
    const { emailAddress } = await startWith(workflowTarget);
    const messages = [sandbox.deliverMessage(emailAddress, { subject: 'Invoice 7' }), sandbox.deliverMessage(emailAddress)];

    const summary = await syncMailbox(gmailSync, emailAddress);

    expect(summary.counts.delivered).toBe(2);
    for (const message of messages) {
      // env.client has Temporal's default converter, as the user's own code would.
      const handle = env.client.workflow.getHandle(`gmail-message/${emailAddress}/${message.id}`);
      const event = (await handle.result()) as DeliveryEvent;
      expect(event).toMatchObject({ kind: 'messageAdded', deliveryId: `${emailAddress}/${message.id}`, emailAddress, messageId: message.id, threadId: message.threadId });
      expect((await handle.describe()).taskQueue).toBe(userTaskQueue);
      const started = (await handle.fetchHistory()).events?.[0].workflowExecutionStartedEventAttributes;
      expect(encodingOf(started?.input?.payloads?.[0])).toBe('json/plain');
    }
    const first = (await env.client.workflow.getHandle(`gmail-message/${emailAddress}/${messages[0].id}`).result()) as DeliveryEvent;
    expect(first.headers?.find((header) => header.name === 'Subject')?.value).toBe('Invoice 7');
    // gmail-sync's own workflow input stays encrypted.
    const mailboxHistory = await gmailSync.workflow.getHandle(mailboxWorkflowId(emailAddress)).fetchHistory();
    expect(encodingOf(mailboxHistory.events?.[0].workflowExecutionStartedEventAttributes?.input?.payloads?.[0])).toBe(ENCRYPTED_ENCODING);
  });

  it('does not start a second workflow when a sync repeats', async () => {
    const { emailAddress, start } = await startWith(workflowTarget);
    const message = sandbox.deliverMessage(emailAddress);
    await syncMailbox(gmailSync, emailAddress);
    const handle = env.client.workflow.getHandle(`gmail-message/${emailAddress}/${message.id}`);
    const firstRun = (await handle.describe()).runId;
    await handle.result();

    const repeat = await resyncMailbox(gmailSync, emailAddress, { startHistoryId: start });

    expect(repeat.counts.delivered).toBe(1);
    expect(repeat.counts.failed ?? 0).toBe(0);
    expect((await handle.describe()).runId).toBe(firstRun);
    expect(await userWorkflowIds(`gmail-message/${emailAddress}/`, 1)).toEqual([`gmail-message/${emailAddress}/${message.id}`]);
  });

  it('starts one workflow per batch of label events', async () => {
    const { emailAddress } = await startWith({ ...workflowTarget, includeLabelEvents: true });
    const message = sandbox.deliverMessage(emailAddress);
    sandbox.modifyLabels(emailAddress, message.id, { addLabelIds: ['STARRED'] });
    sandbox.modifyLabels(emailAddress, message.id, { removeLabelIds: ['UNREAD'] });

    const summary = await syncMailbox(gmailSync, emailAddress);

    expect(summary.counts).toMatchObject({ delivered: 1, eventBatches: 1, labelsAdded: 1, labelsRemoved: 1 });
    const [batchId] = await userWorkflowIds(`gmail-events/${emailAddress}/`, 1);
    expect(batchId).toMatch(/\/batch-[0-9a-f]{32}$/);
    const batch = (await env.client.workflow.getHandle(batchId).result()) as ReceivedEvent;
    expect(batch.kind).toBe('batch');
    expect(batch.events?.map((event) => event.kind)).toEqual(['labelsAdded', 'labelsRemoved']);
  });

  it('hands a batch the webhook rejects to a deliveryWorkflow that delivers it later', async () => {
    const { emailAddress } = await startWith({ target: 'webhook', webhookUrl: receiver.url, webhookSecretRef: 'billing', includeLabelEvents: true });
    const message = sandbox.deliverMessage(emailAddress);
    await syncMailbox(gmailSync, emailAddress);
    sandbox.modifyLabels(emailAddress, message.id, { addLabelIds: ['STARRED'] });
    receiver.reactions.push(400);

    const summary = await syncMailbox(gmailSync, emailAddress);

    expect(summary.counts).toMatchObject({ eventBatches: 1, handedOff: 1, failed: 1 });
    const [rejected] = receiver.received.slice(1).map((request) => JSON.parse(request.body) as ReceivedEvent);
    expect(rejected.kind).toBe('batch');
    const batchKey = rejected.deliveryId.split('/').pop()!;
    const outcome: unknown = await gmailSync.workflow.getHandle(deliveryWorkflowId(emailAddress, batchKey)).result();
    expect(outcome).toBe('delivered');
    const resent = JSON.parse(receiver.received[2].body) as ReceivedEvent;
    expect(receiver.received[2].deliveryId).toBe(rejected.deliveryId);
    expect(resent.events?.map((event) => event.deliveryId)).toEqual(rejected.events?.map((event) => event.deliveryId));
  });

  it('encrypts the event only when GMAIL_SYNC_WORKFLOW_TARGET_ENCRYPTION is on', async () => {
    const encrypting = createWorkflowTargetClient(env.connection, { ...config, workflowTargetEncryption: 'on' });
    const target = new WorkflowDelivery(encrypting, 'notRunByAnyWorker', `nobody-${randomUUID().slice(0, 8)}`);
    const emailAddress = `encrypted-${randomUUID().slice(0, 8)}@example.com`;
    const event: DeliveryEvent = { kind: 'messageAdded', deliveryId: `${emailAddress}/m1`, messageId: 'm1', emailAddress, labelIds: [] };

    await target.deliver(event, AbortSignal.timeout(10_000));

    const history = await env.client.workflow.getHandle(`gmail-message/${emailAddress}/m1`).fetchHistory();
    expect(encodingOf(history.events?.[0].workflowExecutionStartedEventAttributes?.input?.payloads?.[0])).toBe(ENCRYPTED_ENCODING);
    await env.client.workflow.getHandle(`gmail-message/${emailAddress}/m1`).terminate('test done');
  });

  it('rejects a start in a namespace that does not exist for good', async () => {
    const client = new Client({ connection: env.connection, namespace: 'no-such-namespace' });
    const target = new WorkflowDelivery(client, USER_WORKFLOW, userTaskQueue);
    const event: DeliveryEvent = { kind: 'messageAdded', deliveryId: 'a@example.com/m1', messageId: 'm1', emailAddress: 'a@example.com', labelIds: [] };

    const failure = await target.deliver(event, AbortSignal.timeout(10_000)).catch((error: unknown) => error);

    expect(failure).toBeInstanceOf(DeliveryError);
    expect(failure).toMatchObject({ retryable: false });
    expect((failure as DeliveryError).message).toContain('no-such-namespace');
  });

  it('rejects a start that Temporal finds invalid for good', async () => {
    // The server limits type names to 1000 characters by default; the API's check allows 255.
    const target = new WorkflowDelivery(env.client, 'x'.repeat(1001), userTaskQueue);
    const event: DeliveryEvent = { kind: 'messageAdded', deliveryId: 'a@example.com/m2', messageId: 'm2', emailAddress: 'a@example.com', labelIds: [] };

    const failure = await target.deliver(event, AbortSignal.timeout(10_000)).catch((error: unknown) => error);

    expect(failure).toBeInstanceOf(DeliveryError);
    expect(failure).toMatchObject({ retryable: false });
    expect((failure as DeliveryError).message).toContain('INVALID_ARGUMENT');
  });

  it('retries a start while Temporal is unreachable', async () => {
    // Nothing listens on port 1 of loopback.
    const connection = Connection.lazy({ address: '127.0.0.1:1', connectTimeout: '1s' });
    const target = new WorkflowDelivery(new Client({ connection }), USER_WORKFLOW, userTaskQueue);
    const event: DeliveryEvent = { kind: 'messageAdded', deliveryId: 'a@example.com/m1', messageId: 'm1', emailAddress: 'a@example.com', labelIds: [] };

    // Only the deadline stops the client's retries, so the connection closes after they end.
    const failure = await target.deliver(event, new AbortController().signal, Date.now() + 2_000).catch((error: unknown) => error);
    await connection.close();

    expect(failure).toBeInstanceOf(DeliveryError);
    expect(failure).toMatchObject({ retryable: true });
  });
});
