/**
 * Activity proxies of mailboxWorkflow, one per timeout class. Short Gmail
 * calls run as local activities: they record one marker event instead of
 * three activity events plus a workflow task, which keeps a notification's
 * history cost low.
 */
import { proxyActivities, proxyLocalActivities } from '@temporalio/workflow';

import type { MailboxActivities } from './activity-types';
import { GmailFailureType } from './failures';

const NON_RETRYABLE = [
  GmailFailureType.HistoryExpired,
  GmailFailureType.AuthRevoked,
  GmailFailureType.WatchForbidden,
  GmailFailureType.InvalidRequest,
];

/**
 * watch, stop and getProfile: one request each. A few attempts ride out a
 * brief outage; after that the workflow records the error and retries on its
 * own schedule (watch retry, next renewal).
 */
export const gmailCall = proxyLocalActivities<MailboxActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute', maximumAttempts: 5, nonRetryableErrorTypes: NON_RETRYABLE },
});

/**
 * Maximum kept changes that a quick sync delivers before it hands the rest to
 * `longSync`. Most notifications bring one to a few messages. A larger batch
 * goes to the regular activity because it heartbeats: after a worker crash it
 * resumes where it stopped instead of delivering the batch again.
 */
export const QUICK_SYNC_MAX_CHANGES = 10;

/**
 * The usual sync: one history.list page (up to 500 records) and up to
 * QUICK_SYNC_MAX_CHANGES deliveries. Local activities cannot heartbeat, so a
 * sync with more pages or changes returns `morePending` with where it
 * stopped, and `longSync` resumes there.
 * NOTE: a local activity keeps the workflow task open, so a state query or
 * an update sent during a quick sync is answered only after it.
 */
export const quickSync = proxyLocalActivities<MailboxActivities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute', maximumAttempts: 8, nonRetryableErrorTypes: NON_RETRYABLE },
});

/**
 * Syncs and full resyncs that page through a lot of history: a regular
 * activity that heartbeats its page position, so a retry resumes there and the
 * worker's activity rate limit applies.
 */
export const longSync = proxyActivities<MailboxActivities>({
  startToCloseTimeout: '30 minutes',
  heartbeatTimeout: '1 minute',
  retry: { initialInterval: '5 seconds', maximumInterval: '5 minutes', maximumAttempts: 10, nonRetryableErrorTypes: NON_RETRYABLE },
});
