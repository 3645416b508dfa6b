import { MockActivityEnvironment } from '@temporalio/testing';

import { createActivities, DeliveryError, eventDeliveryId, RecordingDelivery, type Delivery, type MailboxChange } from '../../activities';
import { MAX_BATCH_EVENTS, toDeliveryUnits } from '../../activities/event-batch';
import { verifyWebhookSignature } from '../../src/delivery/signature';
import { DEFAULT_DELIVERY_CONFIG, type DeliveryConfig } from '../../src/delivery/targets';
import { createSandboxGmailProvider, type GmailProvider } from '../../src/gmail';
import { startSandbox, type Sandbox } from '../../src/sandbox';
import type { SyncHistoryInput } from '../../workflows/mailbox/activity-types';
import type { CredentialRef, DeliveryOptions, SyncSummary, WatchOptions } from '../../workflows/mailbox/types';
import { WebhookReceiver } from '../helpers/webhook-receiver';

const SANDBOX_CREDENTIAL: CredentialRef = { provider: 'sandbox' };
const WATCH: WatchOptions = { topicName: 'projects/gmail-sync-test/topics/event-batches' };
const SIGNING_SECRET = 'event-batches-signing-secret';

interface BatchBody {
  kind: string;
  batchKey: string;
  deliveryId: string;
  emailAddress: string;
  events: Array<MailboxChange & { emailAddress: string }>;
}

describe('label and deletion event batches', () => {
  let sandbox: Sandbox;
  let provider: GmailProvider;
  let receiver: WebhookReceiver;
  let counter = 0;

  const config: DeliveryConfig = { ...DEFAULT_DELIVERY_CONFIG, resolveSecret: (secretRef) => (secretRef === 'billing' ? SIGNING_SECRET : undefined) };

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

  function newMailbox(): { emailAddress: string; start: string } {
    const emailAddress = `batches-${(counter += 1)}@example.com`;
    return { emailAddress, start: sandbox.createMailbox({ emailAddress }).historyId };
  }

  function syncHistory(input: SyncHistoryInput, delivery?: Delivery, environment = new MockActivityEnvironment()): Promise<SyncSummary> {
    const activities = createActivities({ gmail: provider, delivery, deliveryConfig: config });
    return environment.run((request: SyncHistoryInput) => activities.syncHistory(request), input);
  }

  const webhook = (): DeliveryOptions => ({ target: 'webhook', webhookUrl: receiver.url, webhookSecretRef: 'billing', includeLabelEvents: true });

  const batchBodies = (): BatchBody[] => receiver.received.map((request) => JSON.parse(request.body) as BatchBody).filter((body) => body.kind === 'batch');

  it('sends a page of label and deletion events as one signed POST', async () => {
    const { emailAddress, start } = newMailbox();
    const first = sandbox.deliverMessage(emailAddress);
    const second = sandbox.deliverMessage(emailAddress);
    sandbox.modifyLabels(emailAddress, first.id, { addLabelIds: ['STARRED'] });
    sandbox.modifyLabels(emailAddress, first.id, { removeLabelIds: ['UNREAD'] });
    sandbox.deleteMessage(emailAddress, second.id);

    const summary = await syncHistory({ emailAddress, credential: SANDBOX_CREDENTIAL, startHistoryId: start, watch: WATCH, delivery: webhook() });

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
    const middle = await syncHistory({ emailAddress, credential: SANDBOX_CREDENTIAL, startHistoryId: start, watch: WATCH, delivery: webhook() });
    sandbox.modifyLabels(emailAddress, message.id, { removeLabelIds: ['STARRED'] });
    await syncHistory({ emailAddress, credential: SANDBOX_CREDENTIAL, startHistoryId: middle.historyId, watch: WATCH, delivery: webhook() });
    const [early, late] = batchBodies();

    // A resync from the start puts both label events into one batch.
    await syncHistory({ emailAddress, credential: SANDBOX_CREDENTIAL, startHistoryId: start, watch: WATCH, delivery: webhook() });

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
    const failing = syncHistory(input, batchFails, attempt);
    await expect(failing).rejects.toThrow(/Delivery of batch batch-[0-9a-f]{32} of 1 events of .* failed \(batch receiver rejected it\) and no Temporal client was given/);
    expect(lastHeartbeat?.finishedInPage).toBe(3);

    const second = new RecordingDelivery();
    const summary = await syncHistory(input, second, new MockActivityEnvironment({ heartbeatDetails: lastHeartbeat, attempt: 2 }));

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
    await syncHistory(input, delivery, new MockActivityEnvironment({ heartbeatDetails: olderPosition, attempt: 2 }));

    expect(delivery.messageIds(emailAddress).sort()).toEqual(messages.map((message) => message.id).sort());
    expect(delivery.batches).toHaveLength(1);
  });

  it('writes one log line per batch with counts and ids', async () => {
    const { emailAddress, start } = newMailbox();
    const message = sandbox.deliverMessage(emailAddress, { subject: 'private subject' });
    sandbox.modifyLabels(emailAddress, message.id, { addLabelIds: ['STARRED'] });
    sandbox.modifyLabels(emailAddress, message.id, { addLabelIds: ['IMPORTANT'] });
    const lines: Array<{ message: string; meta?: Record<string, unknown> }> = [];
    const record = (message: string, meta?: Record<string, unknown>): void => {
      lines.push({ message, meta });
    };
    const logger = { log: (_level: string, message: string, meta?: Record<string, unknown>) => record(message, meta), trace: record, debug: record, info: record, warn: record, error: record };

    await syncHistory(
      { emailAddress, credential: SANDBOX_CREDENTIAL, startHistoryId: start, watch: WATCH, delivery: { target: 'log', includeLabelEvents: true } },
      undefined,
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
