import type { LabelFilterBehavior } from '../../workflows/mailbox/types';

/**
 * The stored shape of one sandbox mailbox. Everything is plain JSON, with
 * historyIds as uint64 decimal strings, so the state file is this object.
 */
export interface StoredMessage {
  id: string;
  threadId: string;
  labelIds: string[];
  /** Receipt time in epoch milliseconds on the sandbox clock. */
  internalDate: number;
  historyId: string;
  from: string;
  subject: string;
  body: string;
}

export type HistoryKind = 'messagesAdded' | 'messagesDeleted' | 'labelsAdded' | 'labelsRemoved';

/** One history record: one change to one message, with the message's labels after it. */
export interface HistoryRecord {
  id: string;
  /** When the change happened, epoch milliseconds on the sandbox clock. */
  time: number;
  kind: HistoryKind;
  message: { id: string; threadId: string; labelIds: string[] };
  /** Labels added or removed, for the label kinds only. */
  labelIds?: string[];
}

export interface WatchState {
  topicName: string;
  labelIds: string[];
  labelFilterBehavior: LabelFilterBehavior;
  /** Epoch milliseconds on the sandbox clock after which no notification is sent. */
  expiration: number;
}

export interface MailboxData {
  /** Primary address as created, lower-cased. */
  emailAddress: string;
  aliases: string[];
  historyId: string;
  /** Smallest startHistoryId that history.list still serves; older ids get 404. */
  oldestValidStartId: string;
  /** How long history records are kept; older ones are removed and their range expires. */
  historyRetentionMs: number;
  /** How long a change stays invisible to history.list after it happened. */
  historyIndexDelayMs: number;
  messages: StoredMessage[];
  history: HistoryRecord[];
  watch?: WatchState;
  /** The token endpoint returns invalid_grant for this mailbox's refresh token. */
  invalidGrant: boolean;
  /** The Gmail routes return 401 for this mailbox's access tokens. */
  rejectAccessTokens: boolean;
  /** Sandbox time of the last notification sent, for the one-per-second limit. */
  lastNotificationAt?: number;
}

export type LabelFilter = Pick<WatchState, 'labelIds' | 'labelFilterBehavior'>;
