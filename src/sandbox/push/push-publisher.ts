import type { Logger } from 'pino';

import type { Counters } from '../counters';
import { encodeNotificationData, type NotificationRecord } from './notification';
import type { PushConfig } from './push-config';
import { createPushToken } from './push-token';
import type { SigningKey } from './signing-key';

/** Pub/Sub counts these statuses as an ack and every other status as a nack. */
const ACK_STATUSES = new Set([102, 200, 201, 202, 204]);

/**
 * Sends notifications to the push endpoint as Pub/Sub does: a signed POST,
 * redelivered with exponential backoff after a nack, until acked or, with a
 * dead-letter limit, until that many attempts failed.
 */
export class PushPublisher {
  private readonly timers = new Set<NodeJS.Timeout>();
  private stopped = false;

  constructor(
    private readonly config: () => PushConfig,
    private readonly key: SigningKey,
    private readonly counters: Counters,
    private readonly logger: Logger,
  ) {}

  send(record: NotificationRecord): void {
    void this.attempt(record);
  }

  stop(): void {
    this.stopped = true;
    this.timers.forEach((timer) => clearTimeout(timer));
    this.timers.clear();
  }

  private async attempt(record: NotificationRecord): Promise<void> {
    const config = this.config();
    if (!config.endpoint) {
      record.state = 'not-sent';
      return;
    }

    // 1. Send one attempt and classify the response.
    const deliveryAttempt = record.attempts.length + 1;
    const outcome = await this.post(config, record, deliveryAttempt);
    if (this.stopped) {
      return;
    }
    record.attempts.push(outcome);
    if (typeof outcome === 'number' && ACK_STATUSES.has(outcome)) {
      record.state = 'acked';
      this.counters.countNotification(record.emailAddress, 'acked');
      return;
    }
    this.counters.countNotification(record.emailAddress, 'nacked');

    // 2. Give up at the dead-letter limit, else redeliver after a backoff.
    if (config.deadLetterMaxAttempts !== undefined && deliveryAttempt >= config.deadLetterMaxAttempts) {
      record.state = 'dead-lettered';
      this.counters.countNotification(record.emailAddress, 'deadLettered');
      this.logger.warn({ emailAddress: record.emailAddress, messageId: record.messageId, attempts: record.attempts }, 'push notification dead-lettered');
      return;
    }
    const backoffMs = Math.min(config.maxBackoffMs, config.minBackoffMs * 2 ** (deliveryAttempt - 1));
    this.logger.info({ emailAddress: record.emailAddress, messageId: record.messageId, outcome, backoffMs }, 'push notification nacked; redelivering');
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      void this.attempt(record);
    }, backoffMs);
    this.timers.add(timer);
  }

  /** Returns the HTTP status, or the error text when the request failed or timed out. */
  private async post(config: PushConfig, record: NotificationRecord, deliveryAttempt: number): Promise<number | string> {
    const endpoint = config.endpoint!;
    const data = encodeNotificationData(record.emailAddress, record.historyId, config.historyIdEncoding);
    const subscription = config.subscription ?? `${record.topicName.split('/topics/')[0]}/subscriptions/gmail-sandbox-push`;
    const token = createPushToken(this.key, { audience: config.audience ?? endpoint, serviceAccountEmail: config.serviceAccountEmail });
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      authorization: `Bearer ${token}`,
      'user-agent': 'APIs-Google; (+https://developers.google.com/webmasters/APIs-Google.html)',
    };
    let body: string;
    if (config.format === 'unwrapped') {
      // Unwrapped push with write-metadata on: the data is the body and the
      // metadata travels in x-goog-pubsub-* headers.
      body = data;
      headers['x-goog-pubsub-subscription-name'] = subscription;
      headers['x-goog-pubsub-message-id'] = record.messageId;
      headers['x-goog-pubsub-publish-time'] = record.publishTime;
    } else {
      body = JSON.stringify({
        message: {
          attributes: {},
          data: Buffer.from(data).toString('base64'),
          messageId: record.messageId,
          message_id: record.messageId,
          publishTime: record.publishTime,
          publish_time: record.publishTime,
        },
        subscription,
        ...(config.deadLetterMaxAttempts !== undefined ? { deliveryAttempt } : {}),
      });
    }
    try {
      const response = await fetch(endpoint, { method: 'POST', headers, body, signal: AbortSignal.timeout(config.ackDeadlineMs) });
      await response.arrayBuffer();
      return response.status;
    } catch (error) {
      return error instanceof Error ? error.message : String(error);
    }
  }
}
