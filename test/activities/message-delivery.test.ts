import { createHmac } from 'node:crypto';

import { MockActivityEnvironment } from '@temporalio/testing';

import { createActivities, RecordingDelivery, type Delivery } from '../../activities';
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
});
