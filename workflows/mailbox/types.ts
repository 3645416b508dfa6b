/**
 * Types shared by the mailbox workflow, its activities, the API and the
 * ingest paths. Everything here is plain JSON, because workflow state and
 * messages cross Temporal's data converter: no Map, Set, BigInt or Date.
 * historyId values are uint64 decimal strings; compare them with BigInt.
 */

export type MailboxStatus = 'watching' | 'polling' | 'needs-reauth' | 'stopped';

export type LabelFilterBehavior = 'include' | 'exclude';

/** Which Gmail changes the watch notifies about and which added messages are delivered. */
export interface WatchOptions {
  /** Cloud Pub/Sub topic, `projects/{project}/topics/{topic}`. */
  topicName: string;
  labelIds?: string[];
  labelFilterBehavior?: LabelFilterBehavior;
}

/**
 * A reference the worker resolves to credentials (a credential id or the
 * mailbox address); never a secret.
 */
export interface CredentialRef {
  /** `sandbox` (the local Gmail sandbox), `oauth` (a stored refresh token) or `workspace` (domain-wide delegation). */
  provider: 'sandbox' | 'oauth' | 'workspace';
  id?: string;
}

/** Delivery target settings; the delivery work owns their meaning. */
export interface DeliveryOptions {
  /** `log`, `webhook` or `workflow`; without it, the worker's configured default. */
  target?: string;
  /** URL the webhook target POSTs to: https, or http to a loopback address. */
  webhookUrl?: string;
  /** Name of the webhook signing secret, which the worker reads from GMAIL_SYNC_WEBHOOK_SECRET_<NAME>; never the secret. */
  webhookSecretRef?: string;
  /** Workflow type that the `workflow` target starts per message, in the worker's namespace. */
  workflowType?: string;
  /** Task queue of that workflow, which the user's own workers poll. */
  workflowTaskQueue?: string;
  /** messages.get format: `metadata` (the default) or `full`, which adds the body. */
  format?: string;
  /** Headers that format `metadata` fetches; defaults to the worker's configured list. */
  metadataHeaders?: string[];
  includeLabelEvents?: boolean;
  includeSpam?: boolean;
  includeTrash?: boolean;
  includeDrafts?: boolean;
  [option: string]: unknown;
}

/** Durations in milliseconds; omitted values take the workflow's documented defaults. */
export interface TimingOptions {
  renewIntervalMs?: number;
  quietPeriodMs?: number;
  quietPeriodCapMs?: number;
  pollIntervalMs?: number;
  watchRetryMs?: number;
  followUpBackoffMs?: number;
}

/**
 * The mailbox's timers as epoch milliseconds of workflow time, carried across
 * continue-as-new with the rest of the state.
 */
export interface MailboxSchedule {
  /** `watching`: next renewal; `polling`: next watch retry. */
  renewAt: number | null;
  /** `watching`: next quiet-period check; `polling`: next poll. */
  checkAt: number | null;
  /** Current quiet period; doubles after each check up to the cap, and resets on a notification. */
  quietDelayMs: number;
  /** When the one follow-up sync for a target that history has not reached yet runs. */
  followUpAt: number | null;
  /** Whether the follow-up for the current target was already spent. */
  followUpUsed: boolean;
}

/** Everything a mailbox carries into its next run on continue-as-new. */
export interface CarriedMailboxState {
  state: MailboxState;
  schedule: MailboxSchedule;
  /** Sync from the cursor as soon as possible (set by reauthorized and by unserved requests). */
  syncWanted: boolean;
  /** Workflow time when the mailbox first started, the lower bound of a full resync without an earlier sync. */
  startedAt: number;
}

export interface MailboxWorkflowInput {
  /** Address as Gmail's getProfile returns it, lower-cased. */
  emailAddress: string;
  watch: WatchOptions;
  credential: CredentialRef;
  delivery?: DeliveryOptions;
  timing?: TimingOptions;
  /** Runs the full-resync path once at start over this many days. */
  backfillDays?: number;
  /** History length at which the workflow continues as new even without the server's suggestion; default 5000. */
  maxHistoryEvents?: number;
  /** Set by continue-as-new only; a new mailbox starts without it. */
  carried?: CarriedMailboxState;
}

/** The `notify` signal's payload, normalised by the ingest code. */
export interface NotifyInput {
  /** uint64 as a decimal string. */
  historyId: string;
  /** Pub/Sub message id, for logs and de-duplication counters. */
  messageId?: string;
  /** RFC 3339 publish time from Pub/Sub. */
  publishTime?: string;
}

export interface ResyncInput {
  /** Re-read history from this id; without it, run a full resync. */
  startHistoryId?: string;
}

export interface MailboxCounters {
  notifications: number;
  staleNotifications: number;
  syncs: number;
  polls: number;
  fullResyncs: number;
  messagesDelivered: number;
  watchRenewals: number;
}

export interface MailboxState {
  emailAddress: string;
  status: MailboxStatus;
  historyId: string | null;
  pendingHistoryId: string | null;
  watch: { expiration: string | null };
  lastNotificationAt: string | null;
  lastSyncAt: string | null;
  counters: MailboxCounters;
  lastError: { message: string; at: string } | null;
}

/**
 * Position where a history sync stopped, so the next attempt or the next
 * activity resumes there: the page being delivered and how many of its kept
 * changes are finished. Ids and counts only.
 */
export interface SyncResume {
  startHistoryId: string;
  /** Token of the page being delivered; absent for the first page. */
  pageToken?: string;
  /** Leading delivery units of that page (added messages, then batches of label and deletion events) that are finished. */
  finishedInPage: number;
  /**
   * Set by workers whose finishedInPage counts delivery units. A worker
   * before event batches counted kept changes in history order, which
   * differs when label events are delivered.
   */
  countsUnits?: true;
  /** Counts up to that point. */
  counts: Record<string, number>;
}

/** Summary that a sync activity returns: ids and counts only, never message content. */
export interface SyncSummary {
  historyId: string;
  counts: Record<string, number>;
  morePending?: boolean;
  /** Set with `morePending` by a history sync: where the sync that finishes the work resumes. */
  resume?: SyncResume;
}

export const TASK_QUEUE = 'gmail-sync';

/** Workflow id of a mailbox: `gmail-mailbox/<lower-cased address>`. */
export function mailboxWorkflowId(emailAddress: string): string {
  return `gmail-mailbox/${emailAddress.toLowerCase()}`;
}
