/**
 * ApplicationFailure types that the Gmail activities raise and the mailbox
 * workflow branches on. The activities' error mapper is the only producer.
 */
export const GmailFailureType = {
  /** history.list returned 404 because the start historyId is older than Gmail's retained history. Not retryable. */
  HistoryExpired: 'HistoryExpired',
  /** 429 or a 403 rate-limit reason; retryable after Retry-After. */
  RateLimited: 'RateLimited',
  /** 5xx from Gmail; retryable. */
  GmailUnavailable: 'GmailUnavailable',
  /** No HTTP response at all (connection refused, reset or timed out). Retryable. */
  GmailRequestFailed: 'GmailRequestFailed',
  /** invalid_grant from the token endpoint, or a 401 that persisted after a token refresh. Not retryable. */
  AuthRevoked: 'AuthRevoked',
  /** users.watch returned 403 because Gmail may not publish to the topic. Not retryable. */
  WatchForbidden: 'WatchForbidden',
  /** Any other 4xx: a request that Gmail will never accept, so a bug. Not retryable. */
  InvalidRequest: 'InvalidRequest',
} as const;

export type GmailFailureType = (typeof GmailFailureType)[keyof typeof GmailFailureType];

/** The fix that `lastError` names when Gmail may not publish to the watch topic. */
export const WATCH_FORBIDDEN_FIX =
  'grant gmail-api-push@system.gserviceaccount.com the Pub/Sub Publisher role (roles/pubsub.publisher) on the topic';
