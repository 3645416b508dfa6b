import type { DeliveryOptions } from '../workflows/mailbox/types';

export type MailboxChangeKind = 'messageAdded' | 'messageDeleted' | 'labelsAdded' | 'labelsRemoved';

/** One change handed to delivery: ids only; the target fetches content it needs. */
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

/** Target of a mailbox's changes. Delivery is at least once: the same change may arrive again with the same delivery id. */
export interface Delivery {
  deliver(emailAddress: string, changes: MailboxChange[], options: DeliveryOptions | undefined): Promise<void>;
}

export function addedDeliveryId(emailAddress: string, messageId: string): string {
  return `${emailAddress}/${messageId}`;
}

export function eventDeliveryId(emailAddress: string, messageId: string, historyRecordId: string, kind: MailboxChangeKind): string {
  return `${emailAddress}/${messageId}/${historyRecordId}/${kind}`;
}

export interface RecordedDelivery extends MailboxChange {
  emailAddress: string;
}

/**
 * The default delivery until real targets exist: records each change with its
 * delivery id in memory. Tests read `delivered` and `deliveryIds`.
 */
export class RecordingDelivery implements Delivery {
  readonly delivered: RecordedDelivery[] = [];

  deliver(emailAddress: string, changes: MailboxChange[]): Promise<void> {
    for (const change of changes) {
      this.delivered.push({ emailAddress, ...change });
    }
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
