import type { gmail_v1 } from 'googleapis';

import type { DeliveryOptions, WatchOptions } from '../workflows/mailbox/types';
import { addedDeliveryId, eventDeliveryId, type MailboxChange } from './delivery';

/**
 * Delivery rule for history records. Watch labelIds only
 * filter what Gmail notifies, not what history.list returns, so the same
 * rule is applied here:
 * - an added message is kept when it carries INBOX, or with the watch's
 *   labelIds set, one of them (`include`, the default) or none of them
 *   (`exclude`);
 * - SPAM, TRASH and DRAFT messages are left out unless the delivery options
 *   or the watch's labelIds ask for them, so the product's own drafts never
 *   start a notification loop;
 * - label and deletion events are kept only with `includeLabelEvents`.
 */
export class HistoryFilter {
  private readonly labelIds: string[];
  private readonly exclude: boolean;
  private readonly excludedLabels: string[];

  constructor(
    private readonly emailAddress: string,
    watch: WatchOptions,
    private readonly delivery: DeliveryOptions | undefined,
  ) {
    this.labelIds = watch.labelIds && watch.labelIds.length > 0 ? watch.labelIds : ['INBOX'];
    this.exclude = watch.labelFilterBehavior === 'exclude' && watch.labelIds !== undefined && watch.labelIds.length > 0;
    const requested = (label: string): boolean => !this.exclude && this.labelIds.includes(label);
    this.excludedLabels = [
      ...(delivery?.includeSpam || requested('SPAM') ? [] : ['SPAM']),
      ...(delivery?.includeTrash || requested('TRASH') ? [] : ['TRASH']),
      ...(delivery?.includeDrafts || requested('DRAFT') ? [] : ['DRAFT']),
    ];
  }

  /** Returns whether an added message with these labels is delivered. */
  keepsMessage(labelIds: readonly string[]): boolean {
    if (labelIds.some((label) => this.excludedLabels.includes(label))) {
      return false;
    }
    const matches = labelIds.some((label) => this.labelIds.includes(label));
    return this.exclude ? !matches : matches;
  }

  /** Returns the kept changes of one history record, each with its delivery id. */
  changes(record: gmail_v1.Schema$History): MailboxChange[] {
    const recordId = record.id ?? '';
    const changes: MailboxChange[] = [];

    for (const added of record.messagesAdded ?? []) {
      const message = added.message;
      if (message?.id && this.keepsMessage(message.labelIds ?? [])) {
        changes.push({
          kind: 'messageAdded',
          deliveryId: addedDeliveryId(this.emailAddress, message.id),
          messageId: message.id,
          threadId: message.threadId ?? undefined,
          historyRecordId: recordId,
          labelIds: message.labelIds ?? [],
        });
      }
    }
    if (!this.delivery?.includeLabelEvents) {
      return changes;
    }
    const events: Array<[MailboxChange['kind'], Array<{ message?: gmail_v1.Schema$Message; labelIds?: string[] | null }>]> = [
      ['messageDeleted', record.messagesDeleted ?? []],
      ['labelsAdded', record.labelsAdded ?? []],
      ['labelsRemoved', record.labelsRemoved ?? []],
    ];
    for (const [kind, entries] of events) {
      for (const entry of entries) {
        const messageId = entry.message?.id;
        if (messageId) {
          changes.push({
            kind,
            deliveryId: eventDeliveryId(this.emailAddress, messageId, recordId, kind),
            messageId,
            threadId: entry.message?.threadId ?? undefined,
            historyRecordId: recordId,
            labelIds: entry.labelIds ?? entry.message?.labelIds ?? [],
          });
        }
      }
    }
    return changes;
  }
}
