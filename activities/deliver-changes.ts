import { Context } from '@temporalio/activity';
import type { gmail_v1 } from 'googleapis';

import { toGmailFailure } from '../src/gmail/errors';
import type { DeliveryConfig } from '../src/delivery/targets';
import type { DeliveryOptions } from '../workflows/mailbox/types';
import { DeliveryError, type Delivery, type DeliveryEvent, type MailboxChange } from './delivery';

/** Outcome of one change: delivered, skipped because the message was deleted before its fetch, or failed. */
export type ChangeOutcome = 'delivered' | 'skippedDeleted' | 'failed';

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

    const reason = await this.sendWithinBudget(event);
    if (reason === undefined) {
      return 'delivered';
    }
    // TODO: hand a failed message to a deliveryWorkflow once that exists. Until then it is only counted and logged, and the cursor moves past it.
    Context.current().log.warn('Delivery failed; the message is counted as failed and not retried', {
      emailAddress: this.emailAddress,
      messageId: change.messageId,
      deliveryId: change.deliveryId,
      reason,
    });
    return 'failed';
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
  private async sendWithinBudget(event: DeliveryEvent): Promise<string | undefined> {
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
          return deadline - Date.now() <= 0 ? `timed out after ${this.config.timeoutMs} ms (${message})` : message;
        }
      }
      await new Promise((resolve) => setTimeout(resolve, pauseMs));
      pauseMs = Math.min(pauseMs * 2, RETRY_MAX_MS);
    }
  }
}

/** Adds the outcomes of finished changes to a sync summary's counts. */
export function countOutcomes(counts: Record<string, number>, changes: MailboxChange[], outcomes: ChangeOutcome[], finished: number): void {
  for (let index = 0; index < finished; index += 1) {
    const outcome = outcomes[index];
    counts[outcome] = (counts[outcome] ?? 0) + 1;
    if (outcome === 'delivered') {
      counts[changes[index].kind] = (counts[changes[index].kind] ?? 0) + 1;
    }
  }
}
