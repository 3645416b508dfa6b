import { QUOTA_UNITS, type GmailMethod } from './quota';

export interface NotificationCounters {
  /** Notifications handed to the transport (push or topic), duplicates included. */
  published: number;
  /** Changes that found a notification sent less than a second before, so none was sent. */
  rateLimited: number;
  /** Notifications removed by a `drop` notification fault. */
  dropped: number;
  duplicated: number;
  delayed: number;
  reordered: number;
  /** Push requests that got 102, 200, 201, 202 or 204. */
  acked: number;
  /** Push requests that got any other status or failed on the network. */
  nacked: number;
  deadLettered: number;
}

export interface CounterSnapshot {
  calls: Partial<Record<GmailMethod, number>>;
  quotaUnits: number;
  tokenRefreshes: number;
  notifications: NotificationCounters;
}

function emptySnapshot(): CounterSnapshot {
  return {
    calls: {},
    quotaUnits: 0,
    tokenRefreshes: 0,
    notifications: { published: 0, rateLimited: 0, dropped: 0, duplicated: 0, delayed: 0, reordered: 0, acked: 0, nacked: 0, deadLettered: 0 },
  };
}

/** Counters for the whole sandbox and for each mailbox, in memory only. */
export class Counters {
  private total = emptySnapshot();
  private byMailbox = new Map<string, CounterSnapshot>();

  /** Counts one Gmail call and its quota units, failed calls included, as Google bills them. */
  countCall(emailAddress: string, method: GmailMethod): void {
    for (const snapshot of this.targets(emailAddress)) {
      snapshot.calls[method] = (snapshot.calls[method] ?? 0) + 1;
      snapshot.quotaUnits += QUOTA_UNITS[method];
    }
  }

  countTokenRefresh(emailAddress: string): void {
    for (const snapshot of this.targets(emailAddress)) {
      snapshot.tokenRefreshes += 1;
    }
  }

  countNotification(emailAddress: string, event: keyof NotificationCounters): void {
    for (const snapshot of this.targets(emailAddress)) {
      snapshot.notifications[event] += 1;
    }
  }

  /** Returns a copy of the totals, or of one mailbox's counters. */
  snapshot(emailAddress?: string): CounterSnapshot {
    const source = emailAddress === undefined ? this.total : (this.byMailbox.get(emailAddress) ?? emptySnapshot());
    return structuredClone(source);
  }

  reset(): void {
    this.total = emptySnapshot();
    this.byMailbox = new Map();
  }

  private targets(emailAddress: string): CounterSnapshot[] {
    let mailbox = this.byMailbox.get(emailAddress);
    if (!mailbox) {
      mailbox = emptySnapshot();
      this.byMailbox.set(emailAddress, mailbox);
    }
    return [this.total, mailbox];
  }
}
