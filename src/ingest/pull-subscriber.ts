/**
 * The pull alternative to the push endpoint, for deployments without a
 * public HTTPS endpoint. It receives through StreamingPull with flow control
 * and applies the push endpoint's rules through the same ingest code. It acks
 * after Temporal accepted the signal or when the address has no mailbox, acks
 * and records a message that can never be processed, and nacks on a Temporal
 * failure, so that Pub/Sub redelivers.
 */
import { PubSub, type Message, type Subscription } from '@google-cloud/pubsub';

import type { Logger } from '../logger';
import { parseGmailNotification } from './gmail-notification';
import { ingestNotification, TemporalUnavailableError, type IngestDeps } from './ingest-notification';

export interface PullSubscriberOptions {
  /** `projects/{project}/subscriptions/{subscription}`. */
  subscriptionName: string;
  ingest: IngestDeps;
  logger: Logger;
  /** Most messages held unacknowledged at once. */
  maxMessages: number;
}

export interface PullSubscriber {
  /** Stops receiving, waits for messages in flight, flushes their acks and closes the client. */
  close(): Promise<void>;
}

export function startPullSubscriber(options: PullSubscriberOptions): PullSubscriber {
  const project = /^projects\/([^/]+)\//.exec(options.subscriptionName)?.[1];
  const pubsub = new PubSub({ projectId: project });
  const subscription: Subscription = pubsub.subscription(options.subscriptionName, {
    flowControl: { maxMessages: options.maxMessages, allowExcessMessages: false },
  });
  const logger = options.logger.child({ subscription: options.subscriptionName });
  const inFlight = new Set<Promise<void>>();
  let closing = false;

  const onMessage = (message: Message): void => {
    if (closing) {
      message.nack();
      return;
    }
    const handled = handleMessage(message).finally(() => inFlight.delete(handled));
    inFlight.add(handled);
  };

  async function handleMessage(message: Message): Promise<void> {
    const meta = {
      messageId: message.id,
      publishTime: message.publishTime.toISOString(),
      subscription: options.subscriptionName,
      deliveryAttempt: message.deliveryAttempt || undefined,
    };
    try {
      const result = await ingestNotification(options.ingest, 'pull', parseGmailNotification(message.data), meta, logger);
      options.ingest.metrics.pulls.inc({ outcome: result.outcome });
      message.ack();
    } catch (error) {
      if (!(error instanceof TemporalUnavailableError)) {
        logger.error({ err: error, messageId: message.id }, 'pulled message failed; nacked for redelivery');
      }
      options.ingest.metrics.pulls.inc({ outcome: 'temporal_unavailable' });
      message.nack();
    }
  }

  subscription.on('message', onMessage);
  subscription.on('error', (error: unknown) => {
    logger.error({ err: error }, 'Pub/Sub pull stream failed; the client reconnects on its own where it can');
  });
  logger.info({ maxMessages: options.maxMessages }, 'pull subscriber started');

  return {
    async close() {
      // 1. Stop taking messages: new ones are nacked at once, so Pub/Sub redelivers them. Removing the
      //    listener instead would close the stream before the acks below are sent.
      closing = true;

      // 2. Finish the messages in flight, so their acks and nacks are sent.
      await Promise.allSettled([...inFlight]);

      // 3. Flush acks and close the stream and the client.
      await subscription.close();
      await pubsub.close();
      logger.info('pull subscriber stopped');
    },
  };
}
