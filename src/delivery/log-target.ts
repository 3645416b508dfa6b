import { Context } from '@temporalio/activity';

import type { Delivery, DeliveryEvent, EventBatch, MailboxChangeKind } from '../../activities/delivery';

/**
 * Writes one log line per event, and one per batch of label and deletion
 * events, through the activity's logger, and counts events per kind since
 * the worker started. A line carries ids, labelIds, counts and the names of
 * the fetched headers, never their values, the snippet or the body.
 */
export class LogDelivery implements Delivery {
  readonly counts: Partial<Record<MailboxChangeKind, number>> = {};

  deliver(event: DeliveryEvent): Promise<void> {
    this.counts[event.kind] = (this.counts[event.kind] ?? 0) + 1;
    Context.current().log.info('Delivered event to the log target', {
      kind: event.kind,
      deliveryId: event.deliveryId,
      emailAddress: event.emailAddress,
      messageId: event.messageId,
      threadId: event.threadId,
      historyId: event.historyId ?? event.historyRecordId,
      labelIds: event.labelIds,
      headerNames: event.headers?.map((header) => header.name),
      deliveredOfKind: this.counts[event.kind],
    });
    return Promise.resolve();
  }

  deliverBatch(batch: EventBatch): Promise<void> {
    const ofKind: Partial<Record<MailboxChangeKind, number>> = {};
    for (const event of batch.events) {
      ofKind[event.kind] = (ofKind[event.kind] ?? 0) + 1;
      this.counts[event.kind] = (this.counts[event.kind] ?? 0) + 1;
    }
    Context.current().log.info('Delivered a batch of events to the log target', {
      kind: 'batch',
      deliveryId: batch.deliveryId,
      emailAddress: batch.emailAddress,
      events: batch.events.length,
      ofKind,
      deliveryIds: batch.events.map((event) => event.deliveryId),
    });
    return Promise.resolve();
  }
}
