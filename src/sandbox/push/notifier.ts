import type { SandboxClock } from '../clock';
import type { Counters } from '../counters';
import { passesLabelFilter } from '../gmail/watch';
import type { Mailbox } from '../mailbox';
import type { HistoryRecord } from '../mailbox-data';
import type { NotificationRecord } from './notification';
import type { NotificationFaults } from './notification-faults';

/** Gmail sends at most one notification per mailbox per this interval. */
export const NOTIFICATION_INTERVAL_MS = 1000;

/** Kept notifications, newest last, for tests and the control route; older ones are discarded. */
const LOG_LIMIT = 1000;

/**
 * Turns mailbox changes into notifications as Gmail does. A change notifies
 * only while a watch is active and its label filter passes. A change less
 * than a second after the last notification is dropped, not deferred, so a
 * burst yields one notification and history.list finds the rest.
 * Injected faults then drop, repeat, delay or reorder what is left.
 */
export class Notifier {
  readonly log: NotificationRecord[] = [];
  private readonly heldForReorder = new Map<string, NotificationRecord>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private nextMessageId = 13_524_012_790_000_000n + BigInt(Date.now() % 1_000_000);

  constructor(
    private readonly clock: SandboxClock,
    private readonly counters: Counters,
    private readonly faults: NotificationFaults,
    private readonly transport: () => (record: NotificationRecord) => void,
  ) {}

  onChange(mailbox: Mailbox, records: HistoryRecord[]): void {
    const watch = mailbox.data.watch;
    const now = this.clock.now();
    for (const record of records) {
      if (!watch || now >= watch.expiration || !passesLabelFilter(watch, [...record.message.labelIds, ...(record.labelIds ?? [])])) {
        continue;
      }
      const last = mailbox.data.lastNotificationAt;
      if (last !== undefined && now - last < NOTIFICATION_INTERVAL_MS && now >= last) {
        this.counters.countNotification(mailbox.emailAddress, 'rateLimited');
        continue;
      }
      mailbox.data.lastNotificationAt = now;
      this.dispatch(mailbox.emailAddress, record.id, watch.topicName);
    }
  }

  stop(): void {
    this.timers.forEach((timer) => clearTimeout(timer));
    this.timers.clear();
  }

  private dispatch(emailAddress: string, historyId: string, topicName: string): void {
    const notification: NotificationRecord = {
      emailAddress,
      historyId,
      topicName,
      messageId: (this.nextMessageId++).toString(),
      publishTime: new Date(this.clock.now()).toISOString(),
      attempts: [],
      state: 'pending',
    };
    const fault = this.faults.take(emailAddress);
    switch (fault?.kind) {
      case 'drop':
        this.counters.countNotification(emailAddress, 'dropped');
        return;
      case 'duplicate':
        this.counters.countNotification(emailAddress, 'duplicated');
        this.publish(notification);
        this.publish({ ...notification, messageId: (this.nextMessageId++).toString(), attempts: [] });
        return;
      case 'delay': {
        this.counters.countNotification(emailAddress, 'delayed');
        const timer = setTimeout(() => {
          this.timers.delete(timer);
          this.publish(notification);
        }, fault.delayMs);
        this.timers.add(timer);
        return;
      }
      case 'reorder':
        // Held until the mailbox's next notification has gone out.
        this.counters.countNotification(emailAddress, 'reordered');
        this.heldForReorder.set(emailAddress, notification);
        return;
      default:
        this.publish(notification);
        this.releaseHeld(emailAddress);
    }
  }

  private releaseHeld(emailAddress: string): void {
    const held = this.heldForReorder.get(emailAddress);
    if (held) {
      this.heldForReorder.delete(emailAddress);
      this.publish(held);
    }
  }

  private publish(notification: NotificationRecord): void {
    this.log.push(notification);
    if (this.log.length > LOG_LIMIT) {
      this.log.splice(0, this.log.length - LOG_LIMIT);
    }
    this.counters.countNotification(notification.emailAddress, 'published');
    this.transport()(notification);
  }
}
