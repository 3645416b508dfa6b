/** One Gmail notification on its way out, with what happened to it. */
export interface NotificationRecord {
  emailAddress: string;
  historyId: string;
  topicName: string;
  /** Pub/Sub message id; repeated deliveries of one message share it. */
  messageId: string;
  publishTime: string;
  /** HTTP status per push attempt, or the network error text. */
  attempts: (number | string)[];
  state: 'pending' | 'acked' | 'dead-lettered' | 'published-to-topic' | 'not-sent';
}

/**
 * Encodes the Gmail notification payload. historyId goes in unquoted by
 * default, because real pushes carry it as a JSON number. Its decimal digits
 * are copied as they are, so ids above 2^53 survive for a lossless parser.
 */
export function encodeNotificationData(emailAddress: string, historyId: string, encoding: 'number' | 'string'): string {
  const id = encoding === 'number' ? historyId : JSON.stringify(historyId);
  return `{"emailAddress":${JSON.stringify(emailAddress)},"historyId":${id}}`;
}
