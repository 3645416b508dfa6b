import type { gmail_v1 } from 'googleapis';

export type MailboxChangeKind = 'messageAdded' | 'messageDeleted' | 'labelsAdded' | 'labelsRemoved';

/** One kept change of a sync: ids only. An added message is fetched before delivery. */
export interface MailboxChange {
  kind: MailboxChangeKind;
  /**
   * Stable across repeats: `<address>/<messageId>` for an added message, and
   * `<address>/<messageId>/<historyRecordId>/<kind>` for a label or deletion
   * event, so a receiver that de-duplicates by it gets each event once.
   */
  deliveryId: string;
  messageId: string;
  threadId?: string;
  /** The history record the change came from; absent for a full resync's messages. */
  historyRecordId?: string;
  labelIds?: string[];
}

/**
 * The event a delivery target receives, and the JSON body of a webhook.
 * `historyId`, `snippet`, `internalDate` and `headers` come from messages.get
 * and are set for `messageAdded` only; `payload` is set only with format `full`.
 */
export interface DeliveryEvent extends MailboxChange {
  emailAddress: string;
  labelIds: string[];
  /** The message's historyId as messages.get returns it. */
  historyId?: string;
  snippet?: string;
  /** Epoch milliseconds as a decimal string, as Gmail returns it. */
  internalDate?: string;
  /** With format `metadata`, only the configured headers. */
  headers?: gmail_v1.Schema$MessagePartHeader[];
  payload?: gmail_v1.Schema$MessagePart;
}

/**
 * Label and deletion events of one history page, delivered as one unit. Its
 * key is derived from the events' delivery ids, so the same events give the
 * same key. A resync that groups them differently gives another key, but each
 * event keeps its own delivery id.
 */
export interface ChangeBatch {
  kind: 'batch';
  /** `batch-` and the first 32 hex digits of SHA-256 over the events' sorted delivery ids. */
  batchKey: string;
  /** `<address>/<batchKey>`; receivers de-duplicate by the events' own delivery ids. */
  deliveryId: string;
  changes: MailboxChange[];
}

/** Unit that deliverAll sends: an added message, or a batch of label and deletion events. */
export type DeliveryUnit = MailboxChange | ChangeBatch;

/** The batch a delivery target receives, and the JSON body of a batch webhook. */
export interface EventBatch {
  kind: 'batch';
  batchKey: string;
  deliveryId: string;
  emailAddress: string;
  events: DeliveryEvent[];
}

/**
 * A delivery target. `deliver` resolves once the target accepted the event,
 * and rejects with a DeliveryError whose `retryable` is false when sending it
 * again cannot help; any other error is retried within the per-message
 * timeout. Delivery is at least once: the same event may arrive again with
 * the same delivery id.
 */
export interface Delivery {
  /** `deadline` is when `signal` aborts at the latest, in epoch milliseconds, for clients that take a deadline rather than a signal. */
  deliver(event: DeliveryEvent, signal: AbortSignal, deadline?: number): Promise<void>;
  /**
   * Sends a batch of label and deletion events in one request, with the same
   * rules as `deliver`. A target without it, such as a test double, gets each
   * event of the batch through `deliver`, one after another.
   */
  deliverBatch?(batch: EventBatch, signal: AbortSignal, deadline?: number): Promise<void>;
}

/** A rejected delivery attempt, with whether another attempt may succeed. */
export class DeliveryError extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
  ) {
    super(message);
    this.name = 'DeliveryError';
  }
}

export function addedDeliveryId(emailAddress: string, messageId: string): string {
  return `${emailAddress}/${messageId}`;
}

export function eventDeliveryId(emailAddress: string, messageId: string, historyRecordId: string, kind: MailboxChangeKind): string {
  return `${emailAddress}/${messageId}/${historyRecordId}/${kind}`;
}

export type RecordedDelivery = DeliveryEvent;

/**
 * A delivery target for tests and benchmarks: records each event in memory.
 * Tests read `delivered`, `batches`, `deliveryIds` and `messageIds`.
 */
export class RecordingDelivery implements Delivery {
  readonly delivered: RecordedDelivery[] = [];
  /** Batches as they arrived; their events are in `delivered` too. */
  readonly batches: EventBatch[] = [];

  deliver(event: DeliveryEvent): Promise<void> {
    this.delivered.push(event);
    return Promise.resolve();
  }

  deliverBatch(batch: EventBatch): Promise<void> {
    this.batches.push(batch);
    this.delivered.push(...batch.events);
    return Promise.resolve();
  }

  /** Distinct delivery ids of a mailbox, in first-delivery order. */
  deliveryIds(emailAddress: string): string[] {
    return [...new Set(this.delivered.filter((entry) => entry.emailAddress === emailAddress).map((entry) => entry.deliveryId))];
  }

  /** Distinct ids of added messages of a mailbox. */
  messageIds(emailAddress: string): string[] {
    const added = this.delivered.filter((entry) => entry.emailAddress === emailAddress && entry.kind === 'messageAdded');
    return [...new Set(added.map((entry) => entry.messageId))];
  }
}
