import { PubSub } from '@google-cloud/pubsub';
import type { Logger } from 'pino';

import { encodeNotificationData, type NotificationRecord } from './notification';
import type { PushConfig } from './push-config';

/**
 * Publishes notifications to the watch's topic on the Pub/Sub fake, for the
 * pull path. The client finds the fake through PUBSUB_EMULATOR_HOST, and the
 * sandbox refuses to publish without it so nothing reaches real Pub/Sub.
 * Redelivery is then the fake's job, not the sandbox's.
 */
export class TopicPublisher {
  private readonly clients = new Map<string, PubSub>();

  constructor(
    private readonly config: () => PushConfig,
    private readonly logger: Logger,
  ) {}

  send(record: NotificationRecord): void {
    void this.publish(record);
  }

  async stop(): Promise<void> {
    await Promise.all([...this.clients.values()].map((client) => client.close()));
    this.clients.clear();
  }

  private async publish(record: NotificationRecord): Promise<void> {
    const emulatorHost = process.env.PUBSUB_EMULATOR_HOST;
    if (!emulatorHost) {
      record.state = 'not-sent';
      this.logger.error({ emailAddress: record.emailAddress }, 'PUBSUB_EMULATOR_HOST is not set; the sandbox publishes only to a Pub/Sub fake');
      return;
    }
    const projectId = record.topicName.split('/')[1];
    const data = encodeNotificationData(record.emailAddress, record.historyId, this.config().historyIdEncoding);
    try {
      let client = this.clients.get(`${emulatorHost}/${projectId}`);
      if (!client) {
        client = new PubSub({ projectId });
        this.clients.set(`${emulatorHost}/${projectId}`, client);
      }
      record.messageId = await client.topic(record.topicName).publishMessage({ data: Buffer.from(data) });
      record.state = 'published-to-topic';
    } catch (error) {
      record.state = 'not-sent';
      record.attempts.push(error instanceof Error ? error.message : String(error));
      this.logger.error({ err: error, emailAddress: record.emailAddress, topicName: record.topicName }, 'publishing the notification to the Pub/Sub fake failed');
    }
  }
}
