import { randomUUID } from 'node:crypto';

import { PubSub, type Topic } from '@google-cloud/pubsub';
import { Client, Connection } from '@temporalio/client';

import { startPullSubscriber, type PullSubscriber } from '../../src/ingest/pull-subscriber';
import { createMetrics, type Metrics } from '../../src/metrics/metrics';
import { startMailbox } from '../../src/temporal/mailbox-client';
import type { NotifyInput } from '../../workflows/mailbox/types';
import { captureLogger, mailboxId, startApiHarness, TOPIC_NAME, type ApiHarness, type LogLine } from '../api/helpers/api-harness';
import { notificationsQuery } from '../api/helpers/recording-mailbox-workflow';
import { startPubsubFake, type PubsubFake } from '../helpers/pubsub-fake';

const PROJECT = 'gmail-sync-test';

/** Polls until `check` returns true; Pub/Sub delivery is asynchronous, so there is nothing to await directly. */
async function eventually(check: () => Promise<boolean>, attempts = 100): Promise<void> {
  for (let attempt = 0; attempt < attempts; attempt++) {
    if (await check()) {
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`condition not met after ${attempts} polls 100 ms apart`);
}

async function counterValue(metrics: Metrics, name: string, labels: Record<string, string>): Promise<number> {
  const metric = await metrics.registry.getSingleMetric(name)?.get();
  const value = metric?.values.find((entry) => Object.entries(labels).every(([key, label]) => entry.labels[key] === label));
  return value?.value ?? 0;
}

describe('pull subscriber', () => {
  let harness: ApiHarness;
  let fake: PubsubFake;
  let pubsub: PubSub;
  let topic: Topic;
  let subscriber: PullSubscriber | undefined;
  let metrics: Metrics;
  let subscriptionId = '';
  const logs: LogLine[] = [];

  async function notifications(emailAddress: string): Promise<NotifyInput[]> {
    return harness.env.client.workflow.getHandle(mailboxId(emailAddress)).query(notificationsQuery);
  }

  async function subscribe(client: Client, existing?: string): Promise<PullSubscriber> {
    const name = existing ?? `pull-${randomUUID()}`;
    if (existing === undefined) {
      await topic.createSubscription(name, { ackDeadlineSeconds: 10 });
    }
    subscriptionId = name;
    metrics = createMetrics();
    return startPullSubscriber({
      subscriptionName: `projects/${PROJECT}/subscriptions/${name}`,
      ingest: { client, metrics, signalTimeoutMs: 2000 },
      logger: captureLogger(logs, []),
      maxMessages: 10,
    });
  }

  beforeAll(async () => {
    fake = await startPubsubFake();
    harness = await startApiHarness();
    pubsub = new PubSub({ projectId: PROJECT });
    [topic] = await pubsub.createTopic(`gmail-${randomUUID()}`);
    await startMailbox(harness.env.client, harness.taskQueue, {
      emailAddress: 'pull@example.com',
      watch: { topicName: TOPIC_NAME },
      credential: { provider: 'sandbox' },
    });
  });

  afterEach(async () => {
    await subscriber?.close();
    subscriber = undefined;
  });

  afterAll(async () => {
    await pubsub?.close();
    await harness?.teardown();
    await fake?.stop();
  });

  it('signals a pulled notification with every digit', async () => {
    subscriber = await subscribe(harness.env.client);

    const messageId = await topic.publishMessage({ data: Buffer.from('{"emailAddress":"pull@example.com","historyId":18446744073709551615}') });

    await eventually(async () => (await notifications('pull@example.com')).some((n) => n.messageId === messageId));
    const received = (await notifications('pull@example.com')).find((n) => n.messageId === messageId);
    expect(received?.historyId).toBe('18446744073709551615');
    await eventually(async () => (await counterValue(metrics, 'gmail_sync_pulled_messages_total', { outcome: 'signalled' })) === 1);
  });

  it('acks and records a message that can never be processed', async () => {
    subscriber = await subscribe(harness.env.client);
    const before = (await notifications('pull@example.com')).length;

    const messageId = await topic.publishMessage({ data: Buffer.from('{"emailAddress":"pull@example.com","historyId":"-1"}') });

    await eventually(async () => (await counterValue(metrics, 'gmail_sync_dead_letters_total', { source: 'pull', reason: 'invalid_history_id' })) === 1);
    expect(logs.find((line) => line.messageId === messageId)?.reason).toBe('invalid_history_id');
    expect(await notifications('pull@example.com')).toHaveLength(before);
  });

  it('acks a notification for an unknown mailbox', async () => {
    subscriber = await subscribe(harness.env.client);

    await topic.publishMessage({ data: Buffer.from('{"emailAddress":"nobody@example.com","historyId":"5"}') });

    await eventually(async () => (await counterValue(metrics, 'gmail_sync_pulled_messages_total', { outcome: 'no_mailbox' })) === 1);
  });

  it('nacks while Temporal is unreachable and delivers after', async () => {
    // A client whose calls fail at once, as after a lost connection.
    const deadConnection = await Connection.connect({ address: harness.env.address });
    await deadConnection.close();
    subscriber = await subscribe(new Client({ connection: deadConnection }));
    const messageId = await topic.publishMessage({ data: Buffer.from('{"emailAddress":"pull@example.com","historyId":"77"}') });

    await eventually(async () => (await counterValue(metrics, 'gmail_sync_pulled_messages_total', { outcome: 'temporal_unavailable' })) >= 1);
    expect((await notifications('pull@example.com')).some((n) => n.messageId === messageId)).toBe(false);

    // A healthy subscriber on the same subscription receives the redelivery.
    await subscriber.close();
    subscriber = await subscribe(harness.env.client, subscriptionId);

    await eventually(async () => (await notifications('pull@example.com')).some((n) => n.messageId === messageId));
  });
});
