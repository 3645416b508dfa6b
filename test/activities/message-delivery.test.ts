import { createHmac } from 'node:crypto';

import { MockActivityEnvironment } from '@temporalio/testing';

import { createActivities, DeliveryError, eventDeliveryId, RecordingDelivery, type Delivery, type MailboxChange } from '../../activities';
import { MAX_BATCH_EVENTS, toDeliveryUnits } from '../../activities/event-batch';
import { verifyWebhookSignature } from '../../src/delivery/signature';
import { DEFAULT_DELIVERY_CONFIG, type DeliveryConfig } from '../../src/delivery/targets';
import { createSandboxGmailProvider, type GmailProvider } from '../../src/gmail';
import { startSandbox, type Sandbox } from '../../src/sandbox';
import type { FullResyncInput, SyncHistoryInput } from '../../workflows/mailbox/activity-types';
import type { CredentialRef, DeliveryOptions, SyncSummary, WatchOptions } from '../../workflows/mailbox/types';
import { WebhookReceiver } from '../helpers/webhook-receiver';

const SANDBOX_CREDENTIAL: CredentialRef = { provider: 'sandbox' };
const WATCH: WatchOptions = { topicName: 'projects/gmail-sync-test/topics/delivery' };
const SIGNING_SECRET = 'test-signing-secret-billing';

/** The JSON body of a batch webhook. */
interface BatchBody {
  kind: string;
  batchKey: string;
  deliveryId: string;
  emailAddress: string;
  events: Array<MailboxChange & { emailAddress: string }>;
}

describe('message delivery', () => {
  let sandbox: Sandbox;
  let provider: GmailProvider;
  let receiver: WebhookReceiver;
  let counter = 0;

  beforeAll(async () => {
    sandbox = await startSandbox({ port: 0 });
    provider = createSandboxGmailProvider(sandbox.url);
  });

  beforeEach(async () => {
    receiver = await new WebhookReceiver().start();
  });

  afterEach(async () => {
    await receiver.stop();
  });

  afterAll(async () => {
    await sandbox.stop();
  });

  const config = (overrides: Partial<DeliveryConfig> = {}): DeliveryConfig => ({
    ...DEFAULT_DELIVERY_CONFIG,
    resolveSecret: (secretRef) => (secretRef === 'billing' ? SIGNING_SECRET : undefined),
    ...overrides,
  });

  const webhook = (): DeliveryOptions => ({ target: 'webhook', webhookUrl: receiver.url, webhookSecretRef: 'billing' });

  /** A logger for MockActivityEnvironment that keeps every line. */
  function captureLogs() {
    const lines: Array<{ message: string; meta?: Record<string, unknown> }> = [];
    const record = (line: string, meta?: Record<string, unknown>): void => {
      lines.push({ message: line, meta });
    };
    const logger = { log: (_level: string, line: string, meta?: Record<string, unknown>) => record(line, meta), trace: record, debug: record, info: record, warn: record, error: record };
    return { lines, logger };
  }

  function newMailbox(): { emailAddress: string; start: string } {
    const emailAddress = `delivery-${(counter += 1)}@example.com`;
    return { emailAddress, start: sandbox.createMailbox({ emailAddress }).historyId };
  }

  function syncHistory(
    input: SyncHistoryInput,
    dependencies: { delivery?: Delivery; deliveryConfig?: DeliveryConfig },
    environment = new MockActivityEnvironment(),
  ): Promise<SyncSummary> {
    const activities = createActivities({ gmail: provider, ...dependencies });
    return environment.run((request: SyncHistoryInput) => activities.syncHistory(request), input);
  }

  function fullResync(input: FullResyncInput, dependencies: { delivery?: Delivery; deliveryConfig?: DeliveryConfig }): Promise<SyncSummary> {
    const activities = createActivities({ gmail: provider, ...dependencies });
    return new MockActivityEnvironment().run((request: FullResyncInput) => activities.fullResync(request), input);
  }

  it('syncHistory fetches metadata and delivers with stable ids', async () => {
    const { emailAddress, start } = newMailbox();
    const message = sandbox.deliverMessage(emailAddress, { subject: 'Invoice 42' });
    const delivery = new RecordingDelivery();

    const summary = await syncHistory({ emailAddress, credential: SANDBOX_CREDENTIAL, startHistoryId: start, watch: WATCH }, { delivery });

    expect(summary.counts.delivered).toBe(1);
    expect(sandbox.getCounters(emailAddress).calls['messages.get']).toBe(1);
    const [event] = delivery.delivered;
    expect(event.deliveryId).toBe(`${emailAddress}/${message.id}`);
    expect(event.emailAddress).toBe(emailAddress);
    expect(event.threadId).toBe(message.threadId);
    expect(event.historyId).toMatch(/^\d+$/);
    expect(event.labelIds).toContain('INBOX');
    expect(event.headers?.map((header) => header.name)).toEqual(['From', 'To', 'Subject', 'Date']);
    expect(event.headers?.find((header) => header.name === 'Subject')?.value).toBe('Invoice 42');
    expect(event.payload).toBeUndefined();
  });

  it('syncHistory fetches format full when asked', async () => {
    const { emailAddress, start } = newMailbox();
    sandbox.deliverMessage(emailAddress);
    const delivery = new RecordingDelivery();

    await syncHistory({ emailAddress, credential: SANDBOX_CREDENTIAL, startHistoryId: start, watch: WATCH, delivery: { format: 'full' } }, { delivery });

    const payload = delivery.delivered[0].payload;
    expect(Buffer.from(payload?.body?.data ?? '', 'base64url').toString('utf8')).toMatch(/^This message was delivered by the Gmail sandbox/);
    expect(payload?.headers?.map((header) => header.name)).toContain('Message-ID');
  });

  it('syncHistory records a message deleted before fetch as skipped', async () => {
    const { emailAddress, start } = newMailbox();
    const kept = sandbox.deliverMessage(emailAddress);
    const deleted = sandbox.deliverMessage(emailAddress);
    sandbox.deleteMessage(emailAddress, deleted.id);
    const delivery = new RecordingDelivery();

    const summary = await syncHistory({ emailAddress, credential: SANDBOX_CREDENTIAL, startHistoryId: start, watch: WATCH }, { delivery });

    expect(summary.counts.skippedDeleted).toBe(1);
    expect(summary.counts.delivered).toBe(1);
    expect(summary.counts.failed ?? 0).toBe(0);
    expect(delivery.messageIds(emailAddress)).toEqual([kept.id]);
    expect(summary.historyId).toBe(sandbox.getMailbox(emailAddress).historyId);
  });

  it('syncHistory resumes within a page from its heartbeat', async () => {
    const { emailAddress, start } = newMailbox();
    const messages = Array.from({ length: 520 }, () => sandbox.deliverMessage(emailAddress));
    const input = { emailAddress, credential: SANDBOX_CREDENTIAL, startHistoryId: start, watch: WATCH };

    // The first attempt fails once Gmail starts returning 500 from messages.get in the middle of the second page.
    const first = new RecordingDelivery();
    const failing: Delivery = {
      deliver: async (event, signal) => {
        await first.deliver(event);
        if (first.delivered.length === 505) {
          sandbox.addFault({ method: 'messages.get', emailAddress, status: 500, count: 1000 });
        }
        return signal.aborted ? Promise.reject(new Error('aborted')) : undefined;
      },
    };
    const firstAttempt = new MockActivityEnvironment();
    let lastHeartbeat: { pageToken?: string; finishedInPage?: number } | undefined;
    firstAttempt.on('heartbeat', (details: typeof lastHeartbeat) => {
      lastHeartbeat = details;
    });
    await expect(syncHistory(input, { delivery: failing }, firstAttempt)).rejects.toThrow(/messages\.get/);
    sandbox.clearFaults();
    const callsAfterFirst = sandbox.getCounters(emailAddress).calls['history.list'] ?? 0;

    const second = new RecordingDelivery();
    const summary = await syncHistory(input, { delivery: second }, new MockActivityEnvironment({ heartbeatDetails: lastHeartbeat, attempt: 2 }));

    expect(lastHeartbeat?.pageToken).toBeDefined();
    expect(lastHeartbeat?.finishedInPage).toBeGreaterThan(0);
    expect(sandbox.getCounters(emailAddress).calls['history.list']).toBe(callsAfterFirst + 1);
    expect(second.delivered.length).toBe(20 - lastHeartbeat!.finishedInPage!);
    expect(summary.counts.delivered).toBe(520);
    const all = new Set([...first.messageIds(emailAddress), ...second.messageIds(emailAddress)]);
    expect([...all].sort()).toEqual(messages.map((message) => message.id).sort());
  });

  it('fullResync fetches and delivers each message', async () => {
    const { emailAddress } = newMailbox();
    const messages = Array.from({ length: 3 }, () => sandbox.deliverMessage(emailAddress));
    const delivery = new RecordingDelivery();

    const summary = await fullResync({ emailAddress, credential: SANDBOX_CREDENTIAL, watch: WATCH, sinceMs: Date.now() }, { delivery });

    expect(summary.counts.delivered).toBe(3);
    expect(sandbox.getCounters(emailAddress).calls['messages.get']).toBe(3);
    expect(delivery.deliveryIds(emailAddress).sort()).toEqual(messages.map((message) => `${emailAddress}/${message.id}`).sort());
    expect(delivery.delivered.every((event) => event.headers?.length === 4)).toBe(true);
  });

  it('webhook retries 500 with the same delivery id', async () => {
    const { emailAddress, start } = newMailbox();
    const message = sandbox.deliverMessage(emailAddress);
    receiver.reactions.push(500, 500, 200);

    const summary = await syncHistory(
      { emailAddress, credential: SANDBOX_CREDENTIAL, startHistoryId: start, watch: WATCH, delivery: webhook() },
      { deliveryConfig: config() },
    );

    expect(receiver.deliveryIds()).toEqual(Array(3).fill(`${emailAddress}/${message.id}`));
    expect(summary.counts.delivered).toBe(1);
    expect(summary.counts.failed ?? 0).toBe(0);
  });

  it('webhook resends a lost response with the same delivery id', async () => {
    const { emailAddress, start } = newMailbox();
    const message = sandbox.deliverMessage(emailAddress);
    receiver.reactions.push('drop-after-processing');

    const summary = await syncHistory(
      { emailAddress, credential: SANDBOX_CREDENTIAL, startHistoryId: start, watch: WATCH, delivery: webhook() },
      { deliveryConfig: config() },
    );

    expect(receiver.deliveryIds()).toEqual([`${emailAddress}/${message.id}`, `${emailAddress}/${message.id}`]);
    expect(receiver.received[1].body).toBe(receiver.received[0].body);
    expect(summary.counts.delivered).toBe(1);
  });

  it('webhook signs timestamp and body with the secret', async () => {
    const { emailAddress, start } = newMailbox();
    const message = sandbox.deliverMessage(emailAddress);

    await syncHistory({ emailAddress, credential: SANDBOX_CREDENTIAL, startHistoryId: start, watch: WATCH, delivery: webhook() }, { deliveryConfig: config() });

    const [request] = receiver.received;
    const timestamp = String(request.headers['gmail-sync-timestamp']);
    const signature = String(request.headers['gmail-sync-signature']);
    const expected = `v1=${createHmac('sha256', SIGNING_SECRET).update(`${timestamp}.${request.body}`).digest('hex')}`;
    expect(signature).toBe(expected);
    expect(verifyWebhookSignature(SIGNING_SECRET, timestamp, request.body, signature)).toBe(true);
    expect(verifyWebhookSignature('another-secret', timestamp, request.body, signature)).toBe(false);
    expect(Math.abs(Number(timestamp) - Date.now() / 1000)).toBeLessThan(60);
    expect(request.headers['content-type']).toBe('application/json');
    const event = JSON.parse(request.body) as Record<string, unknown>;
    expect(event).toMatchObject({ kind: 'messageAdded', deliveryId: `${emailAddress}/${message.id}`, emailAddress, messageId: message.id, threadId: message.threadId });
    expect(event.historyId).toEqual(expect.stringMatching(/^\d+$/));
    expect(event.labelIds).toEqual(expect.arrayContaining(['INBOX']));
    expect(event.snippet).toEqual(expect.any(String));
    expect(JSON.stringify(event)).not.toContain(SIGNING_SECRET);
  });

  it('webhook 400 without a client fails loudly', async () => {
    const { emailAddress, start } = newMailbox();
    const message = sandbox.deliverMessage(emailAddress);
    receiver.reactions.push(400);

    const sync = syncHistory(
      { emailAddress, credential: SANDBOX_CREDENTIAL, startHistoryId: start, watch: WATCH, delivery: webhook() },
      { deliveryConfig: config() },
    );

    await expect(sync).rejects.toThrow(`Delivery of message ${message.id} of ${emailAddress} failed (webhook returned HTTP 400) and no Temporal client was given`);
    expect(receiver.received).toHaveLength(1);
  });

  it('webhook slower than the timeout is cut off', async () => {
    const { emailAddress, start } = newMailbox();
    sandbox.deliverMessage(emailAddress);
    receiver.reactions.push({ delayMs: 10_000 }, { delayMs: 10_000 });
    const started = Date.now();

    const sync = syncHistory(
      { emailAddress, credential: SANDBOX_CREDENTIAL, startHistoryId: start, watch: WATCH, delivery: webhook() },
      { deliveryConfig: config({ timeoutMs: 500 }) },
    );

    await expect(sync).rejects.toThrow(/failed \(timed out after 500 ms .*\) and no Temporal client was given/);
    expect(Date.now() - started).toBeLessThan(3_000);
  });

  it('webhook concurrency stays within its bound', async () => {
    const { emailAddress, start } = newMailbox();
    Array.from({ length: 12 }, () => sandbox.deliverMessage(emailAddress));
    let inFlight = 0;
    let maxInFlight = 0;
    const slow: Delivery = {
      deliver: async () => {
        inFlight += 1;
        maxInFlight = Math.max(maxInFlight, inFlight);
        await new Promise((resolve) => setTimeout(resolve, 20));
        inFlight -= 1;
      },
    };

    const summary = await syncHistory({ emailAddress, credential: SANDBOX_CREDENTIAL, startHistoryId: start, watch: WATCH }, { delivery: slow, deliveryConfig: config({ concurrency: 3 }) });

    expect(summary.counts.delivered).toBe(12);
    expect(maxInFlight).toBe(3);
  });

  it('log target logs ids, not content', async () => {
    const { emailAddress, start } = newMailbox();
    const message = sandbox.deliverMessage(emailAddress, { subject: 'private subject', from: 'sender@example.org' });
    const { lines, logger } = captureLogs();

    const summary = await syncHistory(
      { emailAddress, credential: SANDBOX_CREDENTIAL, startHistoryId: start, watch: WATCH, delivery: { target: 'log' } },
      { deliveryConfig: config() },
      new MockActivityEnvironment(undefined, { logger }),
    );

    expect(summary.counts.delivered).toBe(1);
    expect(receiver.received).toHaveLength(0);
    const delivered = lines.filter((line) => line.message === 'Delivered event to the log target');
    expect(delivered).toHaveLength(1);
    expect(delivered[0].meta).toMatchObject({ deliveryId: `${emailAddress}/${message.id}`, messageId: message.id, headerNames: ['From', 'To', 'Subject', 'Date'] });
    const logged = JSON.stringify(lines);
    expect(logged).not.toContain('private subject');
    expect(logged).not.toContain('sender@example.org');
  });

  it('webhook without its secret fails the sync for a retry', async () => {
    const { emailAddress, start } = newMailbox();
    sandbox.deliverMessage(emailAddress);

    await expect(
      syncHistory(
        { emailAddress, credential: SANDBOX_CREDENTIAL, startHistoryId: start, watch: WATCH, delivery: { ...webhook(), webhookSecretRef: 'unknown' } },
        { deliveryConfig: config() },
      ),
    ).rejects.toMatchObject({ type: 'DeliveryTargetUnavailable', nonRetryable: false });
    expect(receiver.received).toHaveLength(0);
  });

  describe('label and deletion event batches', () => {
    const labelWebhook = (): DeliveryOptions => ({ ...webhook(), includeLabelEvents: true });

    const batchBodies = (): BatchBody[] => receiver.received.map((request) => JSON.parse(request.body) as BatchBody).filter((body) => body.kind === 'batch');

    it('sends a page of label and deletion events as one signed POST', async () => {
      const { emailAddress, start } = newMailbox();
      const first = sandbox.deliverMessage(emailAddress);
      const second = sandbox.deliverMessage(emailAddress);
      sandbox.modifyLabels(emailAddress, first.id, { addLabelIds: ['STARRED'] });
      sandbox.modifyLabels(emailAddress, first.id, { removeLabelIds: ['UNREAD'] });
      sandbox.deleteMessage(emailAddress, second.id);

      const summary = await syncHistory({ emailAddress, credential: SANDBOX_CREDENTIAL, startHistoryId: start, watch: WATCH, delivery: labelWebhook() }, { deliveryConfig: config() });

      // The first message alone, then one batch; the second message was deleted before its fetch.
      expect(receiver.received).toHaveLength(2);
      const [batch] = batchBodies();
      expect(batch.events.map((event) => event.kind)).toEqual(['labelsAdded', 'labelsRemoved', 'messageDeleted']);
      for (const event of batch.events) {
        expect(event.deliveryId).toBe(eventDeliveryId(emailAddress, event.messageId, event.historyRecordId!, event.kind));
        expect(event.emailAddress).toBe(emailAddress);
      }
      expect(batch.events[0].labelIds).toEqual(['STARRED']);
      expect(batch.batchKey).toMatch(/^batch-[0-9a-f]{32}$/);
      expect(batch.deliveryId).toBe(`${emailAddress}/${batch.batchKey}`);
      const request = receiver.received.find((received) => received.body.includes('"kind":"batch"'))!;
      expect(request.deliveryId).toBe(batch.deliveryId);
      expect(verifyWebhookSignature(SIGNING_SECRET, String(request.headers['gmail-sync-timestamp']), request.body, String(request.headers['gmail-sync-signature']))).toBe(true);
      expect(summary.counts).toMatchObject({ delivered: 1, skippedDeleted: 1, eventBatches: 1, messageDeleted: 1, labelsAdded: 1, labelsRemoved: 1 });
    });

    it('repeats the same event ids when a resync groups records differently', async () => {
      const { emailAddress, start } = newMailbox();
      const message = sandbox.deliverMessage(emailAddress);
      sandbox.modifyLabels(emailAddress, message.id, { addLabelIds: ['STARRED'] });
      const middle = await syncHistory({ emailAddress, credential: SANDBOX_CREDENTIAL, startHistoryId: start, watch: WATCH, delivery: labelWebhook() }, { deliveryConfig: config() });
      sandbox.modifyLabels(emailAddress, message.id, { removeLabelIds: ['STARRED'] });
      await syncHistory({ emailAddress, credential: SANDBOX_CREDENTIAL, startHistoryId: middle.historyId, watch: WATCH, delivery: labelWebhook() }, { deliveryConfig: config() });
      const [early, late] = batchBodies();

      // A resync from the start puts both label events into one batch.
      await syncHistory({ emailAddress, credential: SANDBOX_CREDENTIAL, startHistoryId: start, watch: WATCH, delivery: labelWebhook() }, { deliveryConfig: config() });

      const regrouped = batchBodies()[2];
      expect(regrouped.batchKey).not.toBe(early.batchKey);
      expect(regrouped.batchKey).not.toBe(late.batchKey);
      expect(regrouped.events.map((event) => event.deliveryId)).toEqual([...early.events, ...late.events].map((event) => event.deliveryId));
    });

    it('resumes at the batch after the page messages a failed attempt delivered', async () => {
      const { emailAddress, start } = newMailbox();
      const messages = Array.from({ length: 3 }, () => sandbox.deliverMessage(emailAddress));
      sandbox.modifyLabels(emailAddress, messages[0].id, { addLabelIds: ['STARRED'] });
      const input = { emailAddress, credential: SANDBOX_CREDENTIAL, startHistoryId: start, watch: WATCH, delivery: { includeLabelEvents: true } };

      // The first attempt delivers the messages and then fails on the batch, without a client to hand it to.
      const first = new RecordingDelivery();
      const batchFails: Delivery = { deliver: (event) => first.deliver(event), deliverBatch: () => Promise.reject(new DeliveryError('batch receiver rejected it', false)) };
      const attempt = new MockActivityEnvironment();
      let lastHeartbeat: { finishedInPage?: number } | undefined;
      attempt.on('heartbeat', (details: typeof lastHeartbeat) => {
        lastHeartbeat = details;
      });
      const failing = syncHistory(input, { delivery: batchFails }, attempt);
      await expect(failing).rejects.toThrow(/Delivery of batch batch-[0-9a-f]{32} of 1 events of .* failed \(batch receiver rejected it\) and no Temporal client was given/);
      expect(lastHeartbeat?.finishedInPage).toBe(3);

      const second = new RecordingDelivery();
      const summary = await syncHistory(input, { delivery: second }, new MockActivityEnvironment({ heartbeatDetails: lastHeartbeat, attempt: 2 }));

      expect(first.messageIds(emailAddress).sort()).toEqual(messages.map((message) => message.id).sort());
      expect(second.messageIds(emailAddress)).toEqual([]);
      expect(second.batches).toHaveLength(1);
      expect(second.batches[0].events.map((event) => event.kind)).toEqual(['labelsAdded']);
      expect(summary.counts).toMatchObject({ delivered: 3, eventBatches: 1, labelsAdded: 1 });
    });

    it('starts the page over from an older position', async () => {
      const { emailAddress, start } = newMailbox();
      const first = sandbox.deliverMessage(emailAddress);
      sandbox.modifyLabels(emailAddress, first.id, { addLabelIds: ['STARRED'] });
      const messages = [first, sandbox.deliverMessage(emailAddress), sandbox.deliverMessage(emailAddress)];
      const input = { emailAddress, credential: SANDBOX_CREDENTIAL, startHistoryId: start, watch: WATCH, delivery: { includeLabelEvents: true } };
      // A worker before event batches counted kept changes in history order, so 2 meant the first message and its label event.
      const olderPosition = { startHistoryId: start, finishedInPage: 2, counts: {} };

      const delivery = new RecordingDelivery();
      await syncHistory(input, { delivery }, new MockActivityEnvironment({ heartbeatDetails: olderPosition, attempt: 2 }));

      expect(delivery.messageIds(emailAddress).sort()).toEqual(messages.map((message) => message.id).sort());
      expect(delivery.batches).toHaveLength(1);
    });

    it('writes one log line per batch with counts and ids', async () => {
      const { emailAddress, start } = newMailbox();
      const message = sandbox.deliverMessage(emailAddress, { subject: 'private subject' });
      sandbox.modifyLabels(emailAddress, message.id, { addLabelIds: ['STARRED'] });
      sandbox.modifyLabels(emailAddress, message.id, { addLabelIds: ['IMPORTANT'] });
      const { lines, logger } = captureLogs();

      await syncHistory(
        { emailAddress, credential: SANDBOX_CREDENTIAL, startHistoryId: start, watch: WATCH, delivery: { target: 'log', includeLabelEvents: true } },
        { deliveryConfig: config() },
        new MockActivityEnvironment(undefined, { logger }),
      );

      const batches = lines.filter((line) => line.message === 'Delivered a batch of events to the log target');
      expect(batches).toHaveLength(1);
      expect(batches[0].meta).toMatchObject({ kind: 'batch', emailAddress, events: 2, ofKind: { labelsAdded: 2 } });
      expect(batches[0].meta?.deliveryIds).toEqual([expect.stringContaining(`/${message.id}/`), expect.stringContaining(`/${message.id}/`)]);
      expect(JSON.stringify(lines)).not.toContain('private subject');
    });

    it('groups added messages first and events in batches of at most MAX_BATCH_EVENTS', () => {
      const change = (index: number, kind: MailboxChange['kind']): MailboxChange => ({ kind, deliveryId: `a@example.com/m${index}/${index}/${kind}`, messageId: `m${index}` });
      const changes = Array.from({ length: 2 * MAX_BATCH_EVENTS + 100 }, (_, index) => change(index, index % 100 === 0 ? 'messageAdded' : 'labelsAdded'));

      const units = toDeliveryUnits('a@example.com', changes);
      const again = toDeliveryUnits('a@example.com', changes);

      const added = changes.filter((item) => item.kind === 'messageAdded');
      expect(units.slice(0, added.length)).toEqual(added);
      const batches = units.slice(added.length);
      const events = changes.length - added.length;
      expect(batches.map((unit) => (unit.kind === 'batch' ? unit.changes.length : 0))).toEqual([MAX_BATCH_EVENTS, MAX_BATCH_EVENTS, events - 2 * MAX_BATCH_EVENTS]);
      expect(again).toEqual(units);
      expect(new Set(batches.map((unit) => (unit.kind === 'batch' ? unit.batchKey : ''))).size).toBe(3);
    });
  });
});
