import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { gmail_v1 } from 'googleapis';

import { toGmailFailure } from '../src/gmail/errors';
import type { DeliveryConfig } from '../src/delivery/targets';
import type { DeliveryOptions } from '../workflows/mailbox/types';
import { DeliveryError, type Delivery, type DeliveryEvent, type MailboxChange } from './delivery';
import type { HandOffOutcome } from './hand-off';

/**
 * Outcome of one change: delivered, skipped because the message was deleted
 * before its fetch, or failed and handed to its deliveryWorkflow (by this
 * sync or an earlier one).
 */
export type ChangeOutcome = 'delivered' | 'skippedDeleted' | HandOffOutcome;

/** Starts the deliveryWorkflow of a change whose delivery failed. */
export type StartHandOff = (change: MailboxChange) => Promise<HandOffOutcome>;

/** Failure type of deliverMessage when the target rejected the event for good; deliveryWorkflow does not retry it. */
export const DELIVERY_REJECTED = 'DeliveryRejected';

/** Reason of the last failed attempt to send an event, and whether another attempt may succeed. */
interface SendFailure {
  reason: string;
  retryable: boolean;
}

/** First pause between attempts of one message; it doubles up to the maximum. */
const RETRY_INITIAL_MS = 100;
const RETRY_MAX_MS = 2_000;

/**
 * Fetches and delivers a batch of changes with bounded concurrency. Each
 * change's delivery attempts share a budget of `timeoutMs`; the fetch from
 * Gmail is outside it. A Gmail error other than 404 rejects the whole batch
 * after the changes in flight finish, so the activity retries from its last
 * heartbeat.
 */
export class ChangeDeliverer {
  constructor(
    private readonly gmail: gmail_v1.Gmail,
    private readonly target: Delivery,
    private readonly emailAddress: string,
    private readonly options: DeliveryOptions | undefined,
    private readonly config: DeliveryConfig,
    /** Undefined where no Temporal client was given; a failed delivery then fails the sync. */
    private readonly handOff?: StartHandOff,
  ) {}

  /**
   * Delivers `changes` and returns one outcome per change, in order. Calls
   * `onProgress` with the number of leading changes that are finished, which
   * is where a retried attempt may resume.
   */
  async deliverAll(changes: MailboxChange[], onProgress: (finished: number, outcomes: ChangeOutcome[]) => void): Promise<ChangeOutcome[]> {
    const outcomes: ChangeOutcome[] = [];
    let finished = 0;
    let next = 0;
    let failure: { error: unknown } | undefined;

    const runLane = async (): Promise<void> => {
      while (failure === undefined && next < changes.length) {
        const index = next++;
        try {
          outcomes[index] = await this.deliverOne(changes[index]);
        } catch (error) {
          failure ??= { error };
          return;
        }
        while (outcomes[finished] !== undefined) {
          finished += 1;
        }
        onProgress(finished, outcomes);
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.config.concurrency, changes.length) }, runLane));

    if (failure !== undefined) {
      throw failure.error;
    }
    return outcomes;
  }

  private async deliverOne(change: MailboxChange): Promise<ChangeOutcome> {
    const event = change.kind === 'messageAdded' ? await this.fetchEvent(change) : { ...change, emailAddress: this.emailAddress, labelIds: change.labelIds ?? [] };
    if (event === undefined) {
      Context.current().log.info('Skipped a message deleted before its fetch', { emailAddress: this.emailAddress, messageId: change.messageId, deliveryId: change.deliveryId });
      return 'skippedDeleted';
    }

    const failure = await this.sendWithinBudget(event);
    if (failure === undefined) {
      return 'delivered';
    }
    if (this.handOff === undefined) {
      throw new Error(
        `Delivery of message ${change.messageId} of ${this.emailAddress} failed (${failure.reason}) and no Temporal client was given to start its deliveryWorkflow; pass \`temporal\` in the activities' dependencies.`,
      );
    }
    const outcome = await this.handOff(change);
    Context.current().log.warn('Delivery failed; the message is handed to its deliveryWorkflow', {
      emailAddress: this.emailAddress,
      messageId: change.messageId,
      deliveryId: change.deliveryId,
      reason: failure.reason,
      handOff: outcome,
    });
    return outcome;
  }

  /**
   * Fetches one added message and sends it within the per-message budget, for
   * deliverMessage. A failed send throws a retryable ApplicationFailure, or a
   * non-retryable one of type DeliveryRejected when the target rejected the
   * event for good.
   */
  async fetchAndSend(change: MailboxChange): Promise<'delivered' | 'skippedDeleted'> {
    const event = await this.fetchEvent(change);
    if (event === undefined) {
      return 'skippedDeleted';
    }
    const failure = await this.sendWithinBudget(event);
    if (failure === undefined) {
      return 'delivered';
    }
    throw ApplicationFailure.create({
      type: failure.retryable ? 'DeliveryFailed' : DELIVERY_REJECTED,
      message: `Delivery of message ${change.messageId} of ${this.emailAddress} failed: ${failure.reason}.`,
      nonRetryable: !failure.retryable,
    });
  }

  /** Fetches an added message; returns undefined when Gmail returns 404 because the message was deleted meanwhile. */
  private async fetchEvent(change: MailboxChange): Promise<DeliveryEvent | undefined> {
    const format = this.options?.format === 'full' ? 'full' : 'metadata';
    let message: gmail_v1.Schema$Message;
    try {
      const response = await this.gmail.users.messages.get({
        userId: 'me',
        id: change.messageId,
        format,
        metadataHeaders: format === 'metadata' ? (this.options?.metadataHeaders ?? this.config.metadataHeaders) : undefined,
      });
      message = response.data;
    } catch (error) {
      if ((error as { response?: { status?: number } }).response?.status === 404) {
        return undefined;
      }
      throw toGmailFailure(error, 'messages.get');
    }

    return {
      ...change,
      emailAddress: this.emailAddress,
      threadId: message.threadId ?? change.threadId,
      labelIds: message.labelIds ?? change.labelIds ?? [],
      historyId: message.historyId ?? undefined,
      snippet: message.snippet ?? undefined,
      internalDate: message.internalDate ?? undefined,
      headers: message.payload?.headers ?? [],
      payload: format === 'full' ? message.payload : undefined,
    };
  }

  /**
   * Sends one event, retrying retryable errors with backoff until the budget
   * is spent. Returns undefined on success, or why the last attempt failed.
   */
  private async sendWithinBudget(event: DeliveryEvent): Promise<SendFailure | undefined> {
    const cancelled = Context.current().cancellationSignal;
    const deadline = Date.now() + this.config.timeoutMs;
    let pauseMs = RETRY_INITIAL_MS;

    for (;;) {
      const remaining = deadline - Date.now();
      try {
        await this.target.deliver(event, AbortSignal.any([AbortSignal.timeout(remaining), cancelled]));
        return undefined;
      } catch (error) {
        if (cancelled.aborted) {
          throw error;
        }
        const retryable = !(error instanceof DeliveryError) || error.retryable;
        if (!retryable || deadline - Date.now() <= pauseMs) {
          const message = error instanceof Error ? error.message : String(error);
          const reason = deadline - Date.now() <= 0 ? `timed out after ${this.config.timeoutMs} ms (${message})` : message;
          return { reason, retryable };
        }
      }
      await new Promise((resolve) => setTimeout(resolve, pauseMs));
      pauseMs = Math.min(pauseMs * 2, RETRY_MAX_MS);
    }
  }
}

/** Adds the outcomes of finished changes to a sync summary's counts; a handed-off change also counts as `failed`. */
export function countOutcomes(counts: Record<string, number>, changes: MailboxChange[], outcomes: ChangeOutcome[], finished: number): void {
  for (let index = 0; index < finished; index += 1) {
    const outcome = outcomes[index];
    counts[outcome] = (counts[outcome] ?? 0) + 1;
    if (outcome === 'handedOff' || outcome === 'alreadyHandedOff') {
      counts.failed = (counts.failed ?? 0) + 1;
    }
    if (outcome === 'delivered') {
      counts[changes[index].kind] = (counts[changes[index].kind] ?? 0) + 1;
    }
  }
}
