/**
 * Webhook delivery end to end over real sockets: a Temporal dev server, the
 * product worker with its configured targets, the Gmail sandbox pushing to
 * the API, and a webhook receiver on loopback that injects faults per
 * message. Short delivery budgets and retry schedules keep the file fast.
 */
import { randomUUID } from 'node:crypto';

import { WorkflowNotFoundError } from '@temporalio/client';

import type { DeliveryEvent } from '../../activities/delivery';
import { verifyWebhookSignature } from '../../src/delivery/signature';
import { replayRunningWorkflows } from '../../src/replay/replay-histories';
import { visibilityString } from '../../src/temporal/visibility-query';
import { deliveryWorkflowId } from '../../workflows/delivery/types';
import { WebhookReceiver, type ReceivedWebhook, type WebhookReaction } from '../helpers/webhook-receiver';
import { eventually, startDevStack, type DevStack } from './dev-stack-harness';

const SIGNING_SECRET = 'e2e-webhook-signing-secret';
const MESSAGES = 50;

interface FailurePage {
  failures: Array<{ messageId: string; workflowId: string; runId: string }>;
}

interface ReplayResponse {
  restarted: Array<{ messageId: string; workflowId: string; runId: string }>;
  skipped: unknown[];
}

describe('webhook delivery end to end', () => {
  let stack: DevStack;
  let receiver: WebhookReceiver;
  /** Reactions queued per delivery id; a request without one gets 503 while the target is down, else 200. */
  const plan = new Map<string, WebhookReaction[]>();
  let targetDown = false;

  beforeAll(async () => {
    stack = await startDevStack(
      {
        GMAIL_SYNC_WEBHOOK_SECRET_E2E: SIGNING_SECRET,
        // A two-second budget per message, and a deliveryWorkflow that fails after three attempts 100 ms apart.
        GMAIL_SYNC_DELIVERY_TIMEOUT_MS: '2000',
        GMAIL_SYNC_DELIVERY_RETRY_INITIAL_MS: '100',
        GMAIL_SYNC_DELIVERY_RETRY_BACKOFF: '1',
        GMAIL_SYNC_DELIVERY_RETRY_MAX_INTERVAL_MS: '100',
        GMAIL_SYNC_DELIVERY_RETRY_MAX_ATTEMPTS: '3',
        GMAIL_SYNC_DELIVERY_RETRY_SCHEDULE_TO_CLOSE_MS: '30000',
        GMAIL_SYNC_DELIVERY_RETRY_ATTEMPT_TIMEOUT_MS: '5000',
      },
      'configured',
    );
    receiver = await new WebhookReceiver().start();
    receiver.chooseReaction = (request) => plan.get(request.deliveryId)?.shift() ?? (targetDown ? 503 : 200);
  }, 120_000);

  afterAll(async () => {
    await receiver?.stop();
    await stack?.teardown();
  });

  /** Starts a mailbox over the API that delivers to the receiver, and waits for its first watch. */
  async function startWebhookMailbox(): Promise<string> {
    const emailAddress = `webhook-${randomUUID().slice(0, 8)}@example.com`;
    stack.sandbox.createMailbox({ emailAddress });
    const started = await stack.apiCall('POST', '/v1/mailboxes', {
      emailAddress,
      delivery: { target: 'webhook', webhookUrl: receiver.url, webhookSecretRef: 'e2e' },
    });
    expect(started.status).toBe(201);
    await eventually(async () => (await stack.mailboxState(emailAddress)).historyId !== null);
    return emailAddress;
  }

  /** Adds a message to the sandbox and moves its clock past Gmail's one-notification-per-second limit. */
  function deliverMessage(emailAddress: string, subject: string): { id: string; historyId: string; deliveryId: string } {
    const message = stack.sandbox.deliverMessage(emailAddress, { subject });
    stack.sandbox.advanceClock(1100);
    return { id: message.id, historyId: message.historyId, deliveryId: `${emailAddress}/${message.id}` };
  }

  function requestsFor(deliveryId: string): ReceivedWebhook[] {
    return receiver.received.filter((request) => request.deliveryId === deliveryId);
  }

  function eventOf(request: ReceivedWebhook): DeliveryEvent {
    return JSON.parse(request.body) as DeliveryEvent;
  }

  function isSigned(request: ReceivedWebhook): boolean {
    const timestamp = String(request.headers['gmail-sync-timestamp']);
    return verifyWebhookSignature(SIGNING_SECRET, timestamp, request.body, String(request.headers['gmail-sync-signature']));
  }

  async function deliveryWorkflowExists(emailAddress: string, messageId: string): Promise<boolean> {
    try {
      await stack.client.workflow.getHandle(deliveryWorkflowId(emailAddress, messageId)).describe();
      return true;
    } catch (error) {
      if (error instanceof WorkflowNotFoundError) {
        return false;
      }
      throw error;
    }
  }

  it('resends an event whose response was lost', async () => {
    const emailAddress = await startWebhookMailbox();
    const message = deliverMessage(emailAddress, 'lost response');
    plan.set(message.deliveryId, ['drop-after-processing']);

    // The receiver processed the first request and dropped its connection, so the sync resent it.
    await eventually(() => Promise.resolve(requestsFor(message.deliveryId).length === 2));
    await eventually(async () => (await stack.mailboxState(emailAddress)).historyId === message.historyId);
    const requests = requestsFor(message.deliveryId);
    expect(requests.map((request) => eventOf(request).messageId)).toEqual([message.id, message.id]);
    expect(requests.map((request) => eventOf(request).deliveryId)).toEqual([message.deliveryId, message.deliveryId]);
    expect(requests.every(isSigned)).toBe(true);

    // The resend succeeded within the sync, so nothing was handed off.
    expect(await deliveryWorkflowExists(emailAddress, message.id)).toBe(false);
  });

  it('keeps syncing while the target hangs on a message', async () => {
    const emailAddress = await startWebhookMailbox();
    let releaseHeld!: () => void;
    const heldResponse = new Promise<void>((resolve) => (releaseHeld = resolve));
    const slow = deliverMessage(emailAddress, 'target hangs on this one');
    plan.set(slow.deliveryId, [{ release: heldResponse }]);

    try {
      // 1. With the first request still unanswered, the sync hands the message off after its budget and moves the cursor.
      await eventually(async () => (await stack.mailboxState(emailAddress)).historyId === slow.historyId, 200);
      expect(await deliveryWorkflowExists(emailAddress, slow.id)).toBe(true);

      // 2. A later message is delivered by the next sync while that request still hangs.
      const next = deliverMessage(emailAddress, 'arrives after the slow one');
      await eventually(async () => (await stack.mailboxState(emailAddress)).historyId === next.historyId);
      expect(requestsFor(next.deliveryId).map((request) => eventOf(request).messageId)).toEqual([next.id]);
      expect(plan.get(slow.deliveryId)).toEqual([]);

      // 3. The handed-off message is delivered by its deliveryWorkflow, with the same delivery id.
      const handle = stack.client.workflow.getHandle(deliveryWorkflowId(emailAddress, slow.id));
      expect(await handle.result()).toBe('delivered');
      expect(requestsFor(slow.deliveryId).length).toBeGreaterThanOrEqual(2);
      expect(requestsFor(slow.deliveryId).every((request) => eventOf(request).messageId === slow.id)).toBe(true);
    } finally {
      releaseHeld();
    }
  });

  it('delivers 50 messages exactly once through faults', async () => {
    const emailAddress = await startWebhookMailbox();
    const messages: Array<{ id: string; historyId: string; deliveryId: string }> = [];
    const dropped = new Set<string>();
    const failed = new Set<string>();

    // The receiver's store: events it processed (with a 2xx response, or before dropping the connection), by delivery id.
    const processed = new Map<string, number>();
    const chooseReaction = receiver.chooseReaction;
    receiver.chooseReaction = (request) => {
      const reaction = chooseReaction(request);
      if (reaction === 'drop-after-processing' || (typeof reaction === 'number' && reaction < 300)) {
        processed.set(request.deliveryId, (processed.get(request.deliveryId) ?? 0) + 1);
      }
      return reaction;
    };

    try {
      // 1. Messages 0-19: ten on the happy path, five whose first attempt gets a 5xx, five whose first response is dropped.
      for (let i = 0; i < 20; i++) {
        const message = deliverMessage(emailAddress, `message ${i}`);
        if (i >= 10 && i < 15) {
          plan.set(message.deliveryId, [i % 2 === 0 ? 500 : 502]);
        } else if (i >= 15) {
          plan.set(message.deliveryId, ['drop-after-processing']);
          dropped.add(message.deliveryId);
        }
        messages.push(message);
      }
      const firstHistoryId = messages[messages.length - 1].historyId;
      await eventually(async () => (await stack.mailboxState(emailAddress)).historyId === firstHistoryId);
      expect(messages.filter((message) => !processed.has(message.deliveryId))).toEqual([]);

      // 2. Messages 20-29 arrive while the target is down for longer than the deliveryWorkflow's retry policy.
      targetDown = true;
      for (let i = 20; i < 30; i++) {
        const message = deliverMessage(emailAddress, `message ${i}`);
        messages.push(message);
        failed.add(message.id);
      }
      const listed = await waitForFailures(emailAddress, failed.size);
      expect(listed.map((failure) => failure.messageId).sort()).toEqual([...failed].sort());
      expect(listed.every((failure) => failure.workflowId === deliveryWorkflowId(emailAddress, failure.messageId))).toBe(true);

      // 3. The target recovers; messages 30-49 arrive, three of them first getting a 503 response.
      targetDown = false;
      for (let i = 30; i < MESSAGES; i++) {
        const message = deliverMessage(emailAddress, `message ${i}`);
        if (i % 7 === 0) {
          plan.set(message.deliveryId, [503]);
        }
        messages.push(message);
      }
      const finalHistoryId = stack.sandbox.getMailbox(emailAddress).historyId;
      await eventually(async () => (await stack.mailboxState(emailAddress)).historyId === finalHistoryId);

      // 4. Replay-failures reruns the ten failed deliveryWorkflows under their ids, and each delivers.
      const replay = await stack.apiCall('POST', `/v1/mailboxes/${emailAddress}/replay-failures`, {});
      expect(replay.status).toBe(200);
      const replayed = (await replay.json()) as ReplayResponse;
      expect(replayed.restarted.map((entry) => entry.messageId).sort()).toEqual([...failed].sort());
      expect(replayed.skipped).toEqual([]);
      for (const entry of replayed.restarted) {
        expect(await stack.client.workflow.getHandle(entry.workflowId, entry.runId).result()).toBe('delivered');
      }

      // 5. The receiver holds every message once; a delivery id repeats only where the test dropped a response.
      const expectedIds = messages.map((message) => message.deliveryId);
      expect([...processed.keys()].sort()).toEqual([...expectedIds].sort());
      const repeated = [...processed].filter(([, count]) => count > 1).map(([deliveryId]) => deliveryId);
      expect(repeated.sort()).toEqual([...dropped].sort());
      expect([...processed.values()].every((count) => count <= 2)).toBe(true);
      const mailboxRequests = receiver.received.filter((request) => request.deliveryId.startsWith(`${emailAddress}/`));
      expect(mailboxRequests.every((request) => eventOf(request).deliveryId === request.deliveryId)).toBe(true);
      expect(mailboxRequests.every((request) => request.deliveryId === `${emailAddress}/${eventOf(request).messageId}`)).toBe(true);
      expect(mailboxRequests.every(isSigned)).toBe(true);

      // 6. The failures route lists none of them any more, and a second replay reruns nothing.
      expect(await waitForFailures(emailAddress, 0)).toEqual([]);
      const again = await stack.apiCall('POST', `/v1/mailboxes/${emailAddress}/replay-failures`, {});
      expect(again.status).toBe(200);
      const replayedAgain = (await again.json()) as ReplayResponse;
      expect(replayedAgain.restarted).toEqual([]);
      expect(replayedAgain.skipped).toHaveLength(failed.size);

      // 7. The current workflow code replays every history the test produced without a nondeterminism error.
      await expectHistoriesReplay(emailAddress, 1 + 2 * failed.size);
    } finally {
      targetDown = false;
      receiver.chooseReaction = chooseReaction;
    }
  });

  /** Polls the failures route until it lists `count` failures, because visibility is eventually consistent. */
  async function waitForFailures(emailAddress: string, count: number): Promise<FailurePage['failures']> {
    let failures: FailurePage['failures'] = [];
    await eventually(async () => {
      const response = await stack.apiCall('GET', `/v1/mailboxes/${emailAddress}/failures?pageSize=100`);
      expect(response.status).toBe(200);
      failures = ((await response.json()) as FailurePage).failures;
      return failures.length === count;
    });
    return failures;
  }

  /** Replays the mailbox's workflow histories (the mailbox and every deliveryWorkflow run) with the replay command's check. */
  async function expectHistoriesReplay(emailAddress: string, runs: number): Promise<void> {
    const query = `GmailEmailAddress = ${visibilityString(emailAddress)}`;
    await eventually(async () => (await stack.client.workflow.count(query)).count === runs);
    const result = await replayRunningWorkflows({ client: stack.client, query });
    expect(result.failures).toEqual([]);
    expect(result.skipped).toEqual([]);
    expect(result.replayed).toBe(runs);
  }
});
