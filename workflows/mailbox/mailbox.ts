/**
 * State transitions of one mailbox, kept apart from the workflow function so
 * that they read as plain code and stay free of Temporal calls. Time is passed
 * in as epoch milliseconds of workflow time.
 *
 * What must stay true:
 * - The cursor (`state.historyId`) is set first by the first watch or
 *   getProfile, and afterwards only by a sync result or a full resync. It
 *   never moves backwards, and renewals and notifications never move it.
 * - A notification at or below the cursor is a counted no-op. Above it, it
 *   only raises `pendingHistoryId`; syncs decide when to clear it.
 * - After a sync that left the cursor below a target known when it started,
 *   one follow-up runs after a short backoff, and then the target is cleared
 *   whether or not history reached it, so no target can cause a loop.
 * - In `needs-reauth` nothing is due: no sync, poll or renewal.
 * - All state is plain JSON (numbers, strings, null), safe for continue-as-new.
 */
import { isAfter, maxHistoryId } from './history-id';
import type {
  CarriedMailboxState,
  MailboxSchedule,
  MailboxState,
  MailboxStatus,
  MailboxWorkflowInput,
  NotifyInput,
  SyncSummary,
  TimingOptions,
} from './types';
import type { WatchMailboxResult } from './activity-types';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

/** Default timing; each can be overridden per mailbox in the workflow input. */
export const DEFAULT_TIMING: Required<TimingOptions> = {
  /** Watch renewal interval; Gmail's watch lasts seven days and Google recommends renewing daily. */
  renewIntervalMs: 24 * HOUR,
  /** First quiet-period check after the last notification. */
  quietPeriodMs: 10 * MINUTE,
  /** Upper bound of the doubling quiet period. */
  quietPeriodCapMs: HOUR,
  /** Poll interval while watch fails. */
  pollIntervalMs: 5 * MINUTE,
  /** Interval between watch retries while polling. */
  watchRetryMs: HOUR,
  /** Wait before the one follow-up sync when history lags its push. */
  followUpBackoffMs: 5_000,
};

/** A renewal is due at least this long before the watch expires. */
export const RENEW_BEFORE_EXPIRY_MS = HOUR;

/** The soonest a renewal is scheduled after a watch, so that a near expiry cannot cause a tight loop. */
const MIN_RENEW_DELAY_MS = MINUTE;

export const DEFAULT_MAX_HISTORY_EVENTS = 5_000;

/** What the workflow should do next. */
export type MailboxWork = 'renew' | 'sync' | 'check' | null;

/** What the workflow's one timer waits for; the Temporal UI shows it as the timer's summary. */
export type DeadlineKind = 'watch renewal' | 'watch retry' | 'quiet-period check' | 'poll' | 'follow-up sync';

/** The earliest deadline, as epoch milliseconds of workflow time, and what falls due then. */
export interface Deadline {
  at: number;
  kind: DeadlineKind;
}

/**
 * Spreads renewals of many mailboxes: a deterministic offset derived from the
 * address (FNV-1a), between zero and one 24th of the renewal interval, that
 * is subtracted from the interval.
 */
export function renewJitterMs(emailAddress: string, renewIntervalMs: number): number {
  let hash = 0x811c9dc5;
  for (let index = 0; index < emailAddress.length; index += 1) {
    hash ^= emailAddress.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  const span = Math.floor(renewIntervalMs / 24);
  return span > 0 ? hash % span : 0;
}

export function newMailboxState(emailAddress: string): MailboxState {
  return {
    emailAddress,
    status: 'watching',
    historyId: null,
    pendingHistoryId: null,
    watch: { expiration: null },
    lastNotificationAt: null,
    lastSyncAt: null,
    counters: {
      notifications: 0,
      staleNotifications: 0,
      syncs: 0,
      polls: 0,
      fullResyncs: 0,
      messagesDelivered: 0,
      watchRenewals: 0,
    },
    lastError: null,
  };
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

export class Mailbox {
  readonly timing: Required<TimingOptions>;
  readonly state: MailboxState;
  readonly schedule: MailboxSchedule;
  syncWanted: boolean;
  readonly startedAt: number;

  constructor(input: MailboxWorkflowInput, now: number) {
    this.timing = { ...DEFAULT_TIMING, ...input.timing };
    const carried = input.carried;
    this.state = carried?.state ?? newMailboxState(input.emailAddress);
    this.schedule = carried?.schedule ?? {
      renewAt: null,
      checkAt: null,
      quietDelayMs: this.timing.quietPeriodMs,
      followUpAt: null,
      followUpUsed: false,
    };
    this.syncWanted = carried?.syncWanted ?? false;
    this.startedAt = carried?.startedAt ?? now;
  }

  get status(): MailboxStatus {
    return this.state.status;
  }

  carry(): CarriedMailboxState {
    return { state: this.state, schedule: this.schedule, syncWanted: this.syncWanted, startedAt: this.startedAt };
  }

  /** Records a notification; returns whether it raised the target or was a no-op. */
  notify(input: NotifyInput, now: number): 'target' | 'stale' {
    const { state, schedule } = this;
    state.counters.notifications += 1;
    state.lastNotificationAt = iso(now);
    if (state.status === 'watching') {
      schedule.quietDelayMs = this.timing.quietPeriodMs;
      schedule.checkAt = now + schedule.quietDelayMs;
    }

    if (state.historyId !== null && !isAfter(input.historyId, state.historyId)) {
      state.counters.staleNotifications += 1;
      return 'stale';
    }
    state.pendingHistoryId = maxHistoryId(state.pendingHistoryId, input.historyId);
    return 'target';
  }

  /** The work due at `now`, renewals first; null when the workflow should wait. */
  dueWork(now: number): MailboxWork {
    const { state, schedule } = this;
    if (state.status === 'needs-reauth' || state.status === 'stopped') {
      return null;
    }
    if (schedule.renewAt !== null && now >= schedule.renewAt) {
      return 'renew';
    }
    if (state.historyId === null) {
      return null;
    }
    if (this.syncWanted || (state.pendingHistoryId !== null && schedule.followUpAt === null)) {
      return 'sync';
    }
    if (schedule.followUpAt !== null && now >= schedule.followUpAt) {
      return 'sync';
    }
    if (schedule.checkAt !== null && now >= schedule.checkAt) {
      return 'check';
    }
    return null;
  }

  /** The earliest time at which work falls due, for the workflow's one deadline timer. */
  nextDeadline(): number | null {
    return this.nextTimer()?.at ?? null;
  }

  /** The earliest deadline and its kind; on a tie the renewal comes first, as in `dueWork`. */
  nextTimer(): Deadline | null {
    const { state, schedule } = this;
    if (state.status === 'needs-reauth' || state.status === 'stopped') {
      return null;
    }
    const polling = state.status === 'polling';
    const candidates: Array<{ at: number | null; kind: DeadlineKind }> = [
      { at: schedule.renewAt, kind: polling ? 'watch retry' : 'watch renewal' },
      { at: schedule.followUpAt, kind: 'follow-up sync' },
      { at: schedule.checkAt, kind: polling ? 'poll' : 'quiet-period check' },
    ];
    let next: Deadline | null = null;
    for (const { at, kind } of candidates) {
      if (at !== null && (next === null || at < next.at)) {
        next = { at, kind };
      }
    }
    return next;
  }

  watchSucceeded(result: WatchMailboxResult, now: number): void {
    const { state, schedule } = this;
    if (state.historyId === null) {
      state.historyId = result.historyId;
    } else {
      state.counters.watchRenewals += 1;
    }
    const expiresAt = Number(result.expiration);
    state.watch.expiration = iso(expiresAt);
    if (state.status !== 'watching') {
      state.status = 'watching';
      schedule.quietDelayMs = this.timing.quietPeriodMs;
      schedule.checkAt = now + schedule.quietDelayMs;
    }
    schedule.checkAt ??= now + schedule.quietDelayMs;

    const byInterval = now + this.timing.renewIntervalMs - renewJitterMs(state.emailAddress, this.timing.renewIntervalMs);
    const byExpiry = expiresAt - RENEW_BEFORE_EXPIRY_MS;
    schedule.renewAt = Math.max(Math.min(byInterval, byExpiry), now + MIN_RENEW_DELAY_MS);
  }

  /** Watch failed for a reason other than revoked credentials: poll at a fixed interval and retry watch slowly. */
  watchFailed(message: string, now: number): void {
    const { state, schedule } = this;
    this.recordError(message, now);
    if (state.status !== 'polling') {
      state.status = 'polling';
      schedule.checkAt = now + this.timing.pollIntervalMs;
    }
    schedule.renewAt = now + this.timing.watchRetryMs;
  }

  /** getProfile's historyId becomes the first cursor when the first watch failed. */
  profileRead(historyId: string): void {
    this.state.historyId ??= historyId;
  }

  authRevoked(message: string, now: number): void {
    this.recordError(message, now);
    this.state.status = 'needs-reauth';
  }

  /** Leaves `needs-reauth`: renew the watch at once (which settles watching or polling), then sync from the kept cursor. */
  reauthorized(now: number): boolean {
    if (this.state.status !== 'needs-reauth') {
      return false;
    }
    this.state.status = 'watching';
    this.schedule.renewAt = now;
    this.syncWanted = true;
    return true;
  }

  /** Applies a sync's result; `targetAtStart` is the pending target when the sync began. */
  syncSucceeded(summary: SyncSummary, work: MailboxWork, targetAtStart: string | null, now: number): void {
    const { state } = this;
    state.historyId = maxHistoryId(state.historyId, summary.historyId);
    state.lastSyncAt = iso(now);
    state.counters.syncs += 1;
    state.counters.messagesDelivered += summary.counts.delivered ?? 0;
    this.afterSync(work, targetAtStart, now);
  }

  syncFailed(message: string, work: MailboxWork, targetAtStart: string | null, now: number): void {
    this.recordError(message, now);
    this.afterSync(work, targetAtStart, now);
  }

  fullResyncSucceeded(summary: SyncSummary, now: number): void {
    this.state.counters.fullResyncs += 1;
    this.syncSucceeded(summary, null, this.state.pendingHistoryId, now);
  }

  recordError(message: string, now: number): void {
    this.state.lastError = { message, at: iso(now) };
  }

  private afterSync(work: MailboxWork, targetAtStart: string | null, now: number): void {
    const { state, schedule } = this;
    this.syncWanted = false;
    if (work === 'check') {
      state.counters.polls += 1;
      if (state.status === 'watching') {
        schedule.quietDelayMs = Math.min(schedule.quietDelayMs * 2, this.timing.quietPeriodCapMs);
        schedule.checkAt = now + schedule.quietDelayMs;
      }
    }
    if (state.status === 'polling') {
      schedule.checkAt = now + this.timing.pollIntervalMs;
    }
    this.settleTarget(targetAtStart, now);
  }

  /** Clears the target once reached; otherwise spends the one follow-up, then gives up on it. */
  private settleTarget(targetAtStart: string | null, now: number): void {
    const { state, schedule } = this;
    schedule.followUpAt = null;
    const pending = state.pendingHistoryId;
    if (pending === null || !isAfter(pending, state.historyId)) {
      state.pendingHistoryId = null;
      schedule.followUpUsed = false;
      return;
    }
    if (targetAtStart === null || isAfter(pending, targetAtStart)) {
      // Notifications raised the target during the sync: sync again now.
      return;
    }
    if (!schedule.followUpUsed) {
      schedule.followUpUsed = true;
      schedule.followUpAt = now + this.timing.followUpBackoffMs;
      return;
    }
    state.pendingHistoryId = null;
    schedule.followUpUsed = false;
  }
}
