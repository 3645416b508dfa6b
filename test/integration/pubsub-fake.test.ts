import { PubSub } from '@google-cloud/pubsub';

import { startPubsubFake, type PubsubFake } from '../helpers/pubsub-fake';

describe('Pub/Sub fake', () => {
  let fake: PubsubFake;

  beforeAll(async () => {
    fake = await startPubsubFake();
  });

  afterAll(async () => {
    await fake?.stop();
  });

  it('publishes and pulls one message', async () => {
    const pubsub = new PubSub({ projectId: 'gmail-sync-test' });
    const [topic] = await pubsub.createTopic('gmail-push');
    const [subscription] = await topic.createSubscription('gmail-pull');

    const data = JSON.stringify({ emailAddress: 'user@example.com', historyId: 1234567890 });
    const publishedId = await topic.publishMessage({ data: Buffer.from(data) });

    const received = await new Promise<{ id: string; data: string }>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no message arrived within 10 s')), 10_000);
      subscription.once('message', (message: { id: string; data: Buffer; ack(): void }) => {
        clearTimeout(timer);
        message.ack();
        resolve({ id: message.id, data: message.data.toString('utf8') });
      });
      subscription.once('error', reject);
    });
    await subscription.close();
    await pubsub.close();

    expect(received.id).toBe(publishedId);
    expect(received.data).toBe(data);
  });
});
