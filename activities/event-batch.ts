import { createHash } from 'node:crypto';

import type { ChangeBatch, DeliveryUnit, MailboxChange } from './delivery';

/** Maximum events in one batch, which keeps a batch webhook's body to a few hundred kilobytes. */
export const MAX_BATCH_EVENTS = 500;

/**
 * Turns one history page's kept changes into delivery units: each added
 * message on its own, in order, then the page's label and deletion events in
 * batches of at most MAX_BATCH_EVENTS. The same page always gives the same
 * units, so a heartbeat's count of finished units stays valid on a retry.
 */
export function toDeliveryUnits(emailAddress: string, changes: MailboxChange[]): DeliveryUnit[] {
  const added = changes.filter((change) => change.kind === 'messageAdded');
  const events = changes.filter((change) => change.kind !== 'messageAdded');
  const batches: ChangeBatch[] = [];
  for (let start = 0; start < events.length; start += MAX_BATCH_EVENTS) {
    batches.push(changeBatch(emailAddress, events.slice(start, start + MAX_BATCH_EVENTS)));
  }
  return [...added, ...batches];
}

/** Builds a batch whose key is a hash of its events' sorted delivery ids. */
export function changeBatch(emailAddress: string, changes: MailboxChange[]): ChangeBatch {
  const ids = changes.map((change) => change.deliveryId).sort();
  const batchKey = `batch-${createHash('sha256').update(ids.join('\n')).digest('hex').slice(0, 32)}`;
  return { kind: 'batch', batchKey, deliveryId: `${emailAddress}/${batchKey}`, changes };
}
