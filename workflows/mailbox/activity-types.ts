/**
 * The contract between mailboxWorkflow and its Gmail activities. Inputs carry
 * a credential reference, never a secret; results carry ids and counts, never
 * message content.
 */
import type { CredentialRef, DeliveryOptions, SyncResume, SyncSummary, WatchOptions } from './types';

export interface MailboxRef {
  emailAddress: string;
  credential: CredentialRef;
}

export interface WatchMailboxInput extends MailboxRef {
  watch: WatchOptions;
}

export interface WatchMailboxResult {
  historyId: string;
  /** Watch expiry in epoch milliseconds, as Gmail returns it (a decimal string). */
  expiration: string;
}

export interface SyncHistoryInput extends MailboxRef {
  /** The cursor: records after this historyId are read. */
  startHistoryId: string;
  watch: WatchOptions;
  delivery?: DeliveryOptions;
  /**
   * Stops after this many history.list pages and returns `morePending: true`
   * without a new cursor; unset reads to the end. Local activities set it
   * because they cannot heartbeat, and leave large syncs to the regular one.
   */
  maxPages?: number;
  /**
   * Stops after delivering this many kept changes and returns `morePending`
   * with `resume`. The quick sync sets it so that a large batch moves to the
   * regular activity, which heartbeats and resumes after a worker crash.
   */
  maxChanges?: number;
  /** Position where an earlier sync of the same cursor stopped. A heartbeat of the same activity takes precedence. */
  resume?: SyncResume;
}

export interface FullResyncInput extends MailboxRef {
  watch: WatchOptions;
  delivery?: DeliveryOptions;
  /** Messages received after this epoch-ms time, minus the activity's safety margin, are delivered. */
  sinceMs: number;
  /** Upper bound on delivered messages; more sets `morePending`. */
  maxMessages?: number;
}

export interface ResolveMailboxResult {
  /** getProfile's emailAddress, lower-cased. */
  emailAddress: string;
  historyId: string;
}

export interface MailboxActivities {
  watchMailbox(input: WatchMailboxInput): Promise<WatchMailboxResult>;
  syncHistory(input: SyncHistoryInput): Promise<SyncSummary>;
  fullResync(input: FullResyncInput): Promise<SyncSummary>;
  stopWatch(input: MailboxRef): Promise<void>;
  resolveMailbox(input: MailboxRef): Promise<ResolveMailboxResult>;
}
