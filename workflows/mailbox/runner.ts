/**
 * The Temporal side of a mailbox: message handlers, the wait for work, the
 * Gmail activities and how their failures change the mailbox. Decisions
 * about state stay in `Mailbox`.
 */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import {
  allHandlersFinished,
  ApplicationFailure,
  CancellationScope,
  condition,
  isCancellation,
  log,
  setCurrentDetails,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';

import type { MailboxRef, SyncHistoryInput } from './activity-types';
import { gmailCall, longSync, QUICK_SYNC_MAX_CHANGES, quickSync } from './activities';
import { DeadlineTimer } from './deadline-timer';
import { GmailFailureType, WATCH_FORBIDDEN_FIX } from './failures';
import { isHistoryId } from './history-id';
import { Mailbox, type MailboxWork } from './mailbox';
import { currentDetails, fullResyncSummary, historySyncSummary, syncReason, timerSummary, watchSummary } from './summaries';
import type { MailboxState, MailboxWorkflowInput, NotifyInput, ResyncInput, SyncSummary } from './types';

const GMAIL_SYNC_STATUS = defineSearchAttributeKey('GmailSyncStatus', SearchAttributeType.KEYWORD);

const DAY_MS = 24 * 60 * 60 * 1000;

/** Outcome of a requested sync, kept until its update handler reads it. */
type SyncOutcome = { summary: SyncSummary } | { error: string; type: string };

interface QueuedResync {
  ticket: number;
  request: ResyncInput;
}

export class MailboxRunner {
  stopRequested = false;

  private readonly ref: MailboxRef;
  private readonly timer = new DeadlineTimer();
  private workScope: CancellationScope | null = null;
  private publishedStatus: string | undefined;
  /** Summary of the Gmail activity in flight, shown in the current details. */
  private runningCall: string | null = null;

  private syncRequested = 0;
  private syncServed = 0;
  private resyncTickets = 0;
  private readonly resyncQueue: QueuedResync[] = [];
  private readonly outcomes: Record<string, SyncOutcome> = {};

  constructor(
    private readonly input: MailboxWorkflowInput,
    private readonly mailbox: Mailbox,
  ) {
    this.ref = { emailAddress: input.emailAddress, credential: input.credential };
    this.publishedStatus = workflowInfo().typedSearchAttributes.get(GMAIL_SYNC_STATUS);
  }

  // Handlers

  onNotify(notification: NotifyInput): void {
    if (!isHistoryId(notification?.historyId)) {
      log.warn('ignored a notification with an invalid historyId', { historyId: notification?.historyId, messageId: notification?.messageId });
      return;
    }
    const result = this.mailbox.notify(notification, Date.now());
    if (result === 'stale') {
      log.debug('notification at or below the cursor', { historyId: notification.historyId, cursor: this.mailbox.state.historyId });
    }
  }

  onReauthorized(): void {
    if (this.mailbox.reauthorized(Date.now())) {
      log.info('credentials renewed; resuming from the kept cursor', { historyId: this.mailbox.state.historyId });
    }
  }

  async requestStop(): Promise<MailboxState> {
    this.stopRequested = true;
    this.workScope?.cancel();
    await condition(() => this.mailbox.status === 'stopped');
    return this.mailbox.state;
  }

  async requestSync(): Promise<SyncSummary> {
    this.syncRequested += 1;
    const ticket = this.syncRequested;
    await condition(() => this.syncServed >= ticket);
    return this.takeOutcome(`sync-${ticket}`);
  }

  async requestResync(request: ResyncInput | undefined): Promise<SyncSummary> {
    this.resyncTickets += 1;
    const ticket = this.resyncTickets;
    this.resyncQueue.push({ ticket, request: request ?? {} });
    await condition(() => `resync-${ticket}` in this.outcomes);
    return this.takeOutcome(`resync-${ticket}`);
  }

  // Loop steps

  /** Watches a new mailbox (and backfills when asked); a continued run resumes from its carried state. */
  async start(): Promise<void> {
    if (this.input.carried) {
      this.publishStatus();
      return;
    }
    await this.renew();
    if (this.input.backfillDays && this.mailbox.state.historyId !== null) {
      await this.inWorkScope(() => this.fullResync(Date.now() - this.input.backfillDays! * DAY_MS, `backfill of ${this.input.backfillDays} days`));
    }
    this.publishStatus();
  }

  async waitForWork(): Promise<void> {
    const next = this.mailbox.nextTimer();
    this.timer.ensure(next && { at: next.at, summary: timerSummary(next, this.mailbox) });
    await condition(
      () => this.stopRequested || this.timer.fired || this.hasRequests() || this.mailbox.dueWork(Date.now()) !== null,
    );
  }

  /** Runs one piece of due work: a requested resync, a renewal, or a sync. */
  async runDueWork(): Promise<void> {
    if (this.stopRequested) {
      return;
    }
    if (this.hasRequests() && (this.mailbox.status === 'needs-reauth' || this.mailbox.state.historyId === null)) {
      this.rejectRequests('NeedsReauth', `Mailbox ${this.ref.emailAddress} cannot sync until it is reauthorized.`);
      return;
    }
    const queued = this.resyncQueue.shift();
    if (queued) {
      this.outcomes[`resync-${queued.ticket}`] = await this.inWorkScope(() => this.resync(queued.request));
      return;
    }

    const work = this.mailbox.dueWork(Date.now());
    if (work === 'renew') {
      await this.inWorkScope(() => this.renew());
      return;
    }
    if (this.syncRequested > this.syncServed) {
      const served = this.syncRequested;
      const outcome = await this.inWorkScope(() => this.sync(work ?? 'sync', 'requested sync'));
      for (let ticket = this.syncServed + 1; ticket <= served; ticket += 1) {
        this.outcomes[`sync-${ticket}`] = outcome;
      }
      this.syncServed = served;
      return;
    }
    if (work !== null) {
      await this.inWorkScope(() => this.sync(work));
    }
  }

  /** Waits for running handlers before continue-as-new; returns false when new work arrived meanwhile. */
  async drainForContinueAsNew(): Promise<boolean> {
    this.timer.cancel();
    await condition(() => this.stopRequested || this.hasRequests() || allHandlersFinished());
    return !this.stopRequested && !this.hasRequests();
  }

  /** Calls users.stop and marks the mailbox stopped, also when users.stop fails. */
  async stop(): Promise<void> {
    this.timer.cancel();
    this.rejectRequests('MailboxStopped', `Mailbox ${this.ref.emailAddress} was stopped.`);
    try {
      await this.running('users.stop', (options) => gmailCall.stopWatch.executeWithOptions(options, [this.ref]));
    } catch (error) {
      log.warn('users.stop failed; the watch lapses at its expiration', { error: describe(error) });
      this.mailbox.recordError(`users.stop failed: ${describe(error)}`, Date.now());
    }
    this.mailbox.state.status = 'stopped';
    this.mailbox.state.pendingHistoryId = null;
    this.publishStatus();
  }

  /** Upserts the status search attribute when it changed, and refreshes the summary in the Temporal UI. */
  publishStatus(): void {
    const state = this.mailbox.state;
    if (this.publishedStatus !== state.status) {
      upsertSearchAttributes([{ key: GMAIL_SYNC_STATUS, value: state.status }]);
      this.publishedStatus = state.status;
    }
    setCurrentDetails(currentDetails(this.mailbox, this.runningCall));
  }

  // Gmail work

  private async renew(): Promise<void> {
    try {
      const result = await this.running(watchSummary(this.mailbox.state), (options) =>
        gmailCall.watchMailbox.executeWithOptions(options, [{ ...this.ref, watch: this.input.watch }]),
      );
      this.mailbox.watchSucceeded(result, Date.now());
    } catch (error) {
      if (isCancellation(error)) {
        throw error;
      }
      if (failureType(error) === GmailFailureType.AuthRevoked) {
        this.mailbox.authRevoked(`users.watch: ${describe(error)}`, Date.now());
        return;
      }
      log.warn('users.watch failed; polling', { error: describe(error) });
      this.mailbox.watchFailed(watchErrorMessage(error), Date.now());
      if (this.mailbox.state.historyId === null) {
        await this.readProfile();
      }
    }
  }

  /** Reads the first cursor from getProfile when the first watch failed. */
  private async readProfile(): Promise<void> {
    try {
      const profile = await this.running('users.getProfile: first cursor after a failed watch', (options) =>
        gmailCall.resolveMailbox.executeWithOptions(options, [this.ref]),
      );
      this.mailbox.profileRead(profile.historyId);
    } catch (error) {
      if (isCancellation(error)) {
        throw error;
      }
      this.handleFailure(error, 'users.getProfile');
    }
  }

  private async sync(work: MailboxWork, reason = syncReason(this.mailbox, work, Date.now())): Promise<SyncOutcome> {
    const targetAtStart = this.mailbox.state.pendingHistoryId;
    try {
      const summary = await this.syncFrom(this.mailbox.state.historyId!, reason);
      this.mailbox.syncSucceeded(summary, work, targetAtStart, Date.now());
      return { summary };
    } catch (error) {
      if (isCancellation(error)) {
        throw error;
      }
      if (failureType(error) === GmailFailureType.HistoryExpired) {
        log.info('history expired; running a full resync', { historyId: this.mailbox.state.historyId });
        return this.fullResync(this.lastSyncMs(), 'history expired');
      }
      this.handleFailure(error, 'history.list');
      if (this.mailbox.status !== 'needs-reauth') {
        this.mailbox.syncFailed(`history.list: ${describe(error)}`, work, targetAtStart, Date.now());
      }
      return failedOutcome(error);
    }
  }

  /** Reads history from `startHistoryId`: one page locally, the rest in a heartbeating activity. */
  private async syncFrom(startHistoryId: string, reason: string): Promise<SyncSummary> {
    const request: SyncHistoryInput = {
      ...this.ref,
      startHistoryId,
      watch: this.input.watch,
      delivery: this.input.delivery,
    };
    const first = await this.running(historySyncSummary(startHistoryId, reason, 'quick'), (options) =>
      quickSync.syncHistory.executeWithOptions(options, [{ ...request, maxPages: 1, maxChanges: QUICK_SYNC_MAX_CHANGES }]),
    );
    if (!first.morePending) {
      return first;
    }
    return this.running(historySyncSummary(startHistoryId, reason, 'rest'), (options) =>
      longSync.syncHistory.executeWithOptions(options, [{ ...request, resume: first.resume }]),
    );
  }

  private async fullResync(sinceMs: number, reason: string): Promise<SyncOutcome> {
    try {
      const summary = await this.running(fullResyncSummary(sinceMs, reason), (options) =>
        longSync.fullResync.executeWithOptions(options, [{ ...this.ref, watch: this.input.watch, delivery: this.input.delivery, sinceMs }]),
      );
      this.mailbox.fullResyncSucceeded(summary, Date.now());
      if (summary.morePending) {
        const message = `full resync reached its bound of ${summary.counts.delivered ?? 0} messages; the remaining messages since ${new Date(sinceMs).toISOString()} were not delivered`;
        log.warn(message, { historyId: summary.historyId });
        this.mailbox.recordError(message, Date.now());
      }
      return { summary };
    } catch (error) {
      if (isCancellation(error)) {
        throw error;
      }
      this.handleFailure(error, 'full resync');
      if (this.mailbox.status !== 'needs-reauth') {
        this.mailbox.syncFailed(`full resync: ${describe(error)}`, null, this.mailbox.state.pendingHistoryId, Date.now());
      }
      return failedOutcome(error);
    }
  }

  private async resync(request: ResyncInput): Promise<SyncOutcome> {
    if (request.startHistoryId === undefined) {
      return this.fullResync(this.lastSyncMs(), 'requested resync');
    }
    try {
      const summary = await this.syncFrom(request.startHistoryId, 'requested resync');
      this.mailbox.syncSucceeded(summary, null, this.mailbox.state.pendingHistoryId, Date.now());
      return { summary };
    } catch (error) {
      if (isCancellation(error)) {
        throw error;
      }
      if (failureType(error) === GmailFailureType.HistoryExpired) {
        log.info('requested startHistoryId is no longer in history; running a full resync', { startHistoryId: request.startHistoryId });
        return this.fullResync(this.lastSyncMs(), 'requested startHistoryId expired');
      }
      this.handleFailure(error, 'history.list');
      return failedOutcome(error);
    }
  }

  /** Moves to needs-reauth on revoked credentials; records any other failure. */
  private handleFailure(error: unknown, call: string): void {
    const message = `${call}: ${describe(error)}`;
    if (failureType(error) === GmailFailureType.AuthRevoked) {
      log.warn('credentials revoked; waiting for reauthorized', { error: message });
      this.mailbox.authRevoked(message, Date.now());
      return;
    }
    log.error('Gmail call failed', { error: message });
    this.mailbox.recordError(message, Date.now());
  }

  // Plumbing

  /** Shows `summary` as the running call in the current details while `call` runs, and gives the call it as its activity summary. */
  private async running<T>(summary: string, call: (options: { summary: string }) => Promise<T>): Promise<T> {
    this.runningCall = summary;
    setCurrentDetails(currentDetails(this.mailbox, summary));
    try {
      return await call({ summary });
    } finally {
      this.runningCall = null;
    }
  }

  private lastSyncMs(): number {
    const lastSyncAt = this.mailbox.state.lastSyncAt;
    return lastSyncAt !== null ? Date.parse(lastSyncAt) : this.mailbox.startedAt;
  }

  private hasRequests(): boolean {
    return this.syncRequested > this.syncServed || this.resyncQueue.length > 0;
  }

  private rejectRequests(type: string, message: string): void {
    for (let ticket = this.syncServed + 1; ticket <= this.syncRequested; ticket += 1) {
      this.outcomes[`sync-${ticket}`] = { error: message, type };
    }
    this.syncServed = this.syncRequested;
    for (const queued of this.resyncQueue.splice(0)) {
      this.outcomes[`resync-${queued.ticket}`] = { error: message, type };
    }
  }

  private takeOutcome(key: string): SyncSummary {
    const outcome = this.outcomes[key];
    delete this.outcomes[key];
    if ('error' in outcome) {
      throw ApplicationFailure.create({ type: outcome.type, message: outcome.error, nonRetryable: true });
    }
    return outcome.summary;
  }

  /** Runs Gmail work in a scope that `stop` can cancel. */
  private async inWorkScope<T>(work: () => Promise<T>): Promise<T> {
    const scope = new CancellationScope();
    this.workScope = scope;
    try {
      return await scope.run(work);
    } catch (error) {
      if (isCancellation(error) && this.stopRequested) {
        return failedOutcome(error) as T;
      }
      throw error;
    } finally {
      this.workScope = null;
    }
  }
}

/** Finds the first ApplicationFailure in an error's cause chain, which is the typed Gmail failure behind an activity failure. */
function applicationFailure(error: unknown): ApplicationFailure | undefined {
  let current: unknown = error;
  while (current instanceof Error) {
    if (current instanceof ApplicationFailure) {
      return current;
    }
    current = current.cause;
  }
  return undefined;
}

function failureType(error: unknown): string | undefined {
  return applicationFailure(error)?.type ?? undefined;
}

function describe(error: unknown): string {
  const failure = applicationFailure(error);
  if (failure) {
    return failure.message;
  }
  return error instanceof Error ? error.message : String(error);
}

function watchErrorMessage(error: unknown): string {
  const message = `users.watch failed: ${describe(error)}`;
  return failureType(error) === GmailFailureType.WatchForbidden ? `${message}. To fix it, ${WATCH_FORBIDDEN_FIX}.` : message;
}

function failedOutcome(error: unknown): SyncOutcome {
  return { error: describe(error), type: failureType(error) ?? 'SyncFailed' };
}
