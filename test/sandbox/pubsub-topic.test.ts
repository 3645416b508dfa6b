import { PubSub } from '@google-cloud/pubsub';

import { startSandbox, type Sandbox } from '../../src/sandbox';
import { startPubsubFake, type PubsubFake } from '../helpers/pubsub-fake';
import { gmailClient } from './helpers';

describe('Gmail sandbox publishing to the Pub/Sub fake', () => {
  let fake: PubsubFake;
  let sandbox: Sandbox;

  beforeAll(async () => {
    fake = await startPubsubFake();
    sandbox = await startSandbox({ push: { mode: 'pubsub' } });
  });

  afterAll(async () => {
    await sandbox?.stop();
    await fake?.stop();
  });

  it('publishes the notification to the watched topic', async () => {
    const pubsub = new PubSub({ projectId: 'sandbox-pull' });
    const [topic] = await pubsub.createTopic('gmail');
    const [subscription] = await topic.createSubscription('gmail-pull');
    await gmailClient(sandbox, 'pull@example.com').users.watch({ userId: 'me', requestBody: { topicName: 'projects/sandbox-pull/topics/gmail' } });

    const delivered = sandbox.deliverMessage('pull@example.com');
    const received = await new Promise<{ id: string; data: string }>((resolve, reject) => {
      subscription.once('message', (message: { id: string; data: Buffer; ack(): void }) => {
        message.ack();
        resolve({ id: message.id, data: message.data.toString('utf8') });
      });
      subscription.once('error', reject);
    });
    await subscription.close();
    await pubsub.close();
    // The subscriber can receive the message before the publish call returns to the sandbox.
    while (sandbox.notifications('pull@example.com')[0].state === 'pending') {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }

    expect(received.data).toBe(`{"emailAddress":"pull@example.com","historyId":${delivered.historyId}}`);
    expect(sandbox.notifications('pull@example.com')[0]).toMatchObject({ state: 'published-to-topic', messageId: received.id });
  });
});
