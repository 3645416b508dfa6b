/** Destination and format of outgoing notifications. Every field can be changed at run time. */
export interface PushConfig {
  /** `push`: HTTP POST to endpoint; `pubsub`: publish to the watch's topic on the Pub/Sub fake. */
  mode: 'push' | 'pubsub';
  /** Push endpoint URL; without one, notifications are recorded and counted but not sent. */
  endpoint?: string;
  /** `aud` claim of the push token; defaults to the endpoint URL, as Pub/Sub does. */
  audience?: string;
  /** `email` claim of the push token: the push subscription's service account. */
  serviceAccountEmail: string;
  /** `wrapped`: Pub/Sub's JSON envelope; `unwrapped`: the data as the body, metadata in headers. */
  format: 'wrapped' | 'unwrapped';
  /** Subscription named in the envelope; defaults to `projects/<topic project>/subscriptions/gmail-sandbox-push`. */
  subscription?: string;
  /** Stop redelivering after this many attempts; when set, envelopes carry deliveryAttempt. */
  deadLetterMaxAttempts?: number;
  /** First redelivery delay after a nack, doubled per attempt up to maxBackoffMs. */
  minBackoffMs: number;
  maxBackoffMs: number;
  /** Time the endpoint has to respond before the attempt counts as a nack. */
  ackDeadlineMs: number;
  /** Real pushes carry historyId as a JSON number; `string` sends the documented quoted form. */
  historyIdEncoding: 'number' | 'string';
}

/**
 * Defaults follow Pub/Sub: exponential retry from 10 s to 600 s and a 10 s ack
 * deadline. Tests shorten the backoff through configurePush.
 */
export const DEFAULT_PUSH_CONFIG: PushConfig = {
  mode: 'push',
  serviceAccountEmail: 'gmail-sandbox-push@gmail-sync-sandbox.iam.gserviceaccount.com',
  format: 'wrapped',
  minBackoffMs: 10_000,
  maxBackoffMs: 600_000,
  ackDeadlineMs: 10_000,
  historyIdEncoding: 'number',
};
