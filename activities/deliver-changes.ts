import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { gmail_v1 } from 'googleapis';

import { toGmailFailure } from '../src/gmail/errors';
import type { DeliveryConfig } from '../src/delivery/targets';
import type { DeliveryOptions } from '../workflows/mailbox/types';
import { DeliveryError, type ChangeBatch, type Delivery, type DeliveryEvent, type DeliveryUnit, type EventBatch, type MailboxChange } from './delivery';
import type { HandOffOutcome } from './hand-off';

/**
 * Outcome of one unit (an added message or a batch of events): delivered,
 * skipped because the message was deleted before its fetch, or failed and
 * handed to its deliveryWorkflow (by this sync or an earlier one).
 */
export type ChangeOutcome = 'delivered' | 'skippedDeleted' | HandOffOutcome;

/** Starts the deliveryWorkflow of a message or batch whose delivery failed. */
export type StartHandOff = (unit: DeliveryUnit) => Promise<HandOffOutcome>;

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
 * Fetches and delivers the units of a page with bounded concurrency: added
 * messages one by one, and label and deletion events as batches. Each unit's
 * delivery attempts share a budget of `timeoutMs`; the fetch from Gmail is
 * outside it. A Gmail error other than 404 rejects the whole page after the
 * units in flight finish, so the activity retries from its last heartbeat.
 *
 * A batch that fails within its budget is handed to a deliveryWorkflow like a
 * message, with the batch's events (ids and labelIds only) in its input. So a
 * target that is down or rejects a batch does not hold the cursor back, and
 * the batch is not lost: it is retried on the longer schedule, listed among
 * the mailbox's failures under its batch key, and can be replayed.
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
   * Delivers `changes` and returns one outcome per unit, in order. Calls
   * `onProgress` with the number of leading units that are finished, which
   * is where a retried attempt may resume.
   */
  async deliverAll(changes: DeliveryUnit[], onProgress: (finished: number, outcomes: ChangeOutcome[]) => void): Promise<ChangeOutcome[]> {
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

  private async deliverOne(unit: DeliveryUnit): Promise<ChangeOutcome> {
    const sent = await this.send(unit);
    if (sent === 'skippedDeleted') {
      Context.current().log.info('Skipped a message deleted before its fetch', { emailAddress: this.emailAddress, messageId: (unit as MailboxChange).messageId, deliveryId: unit.deliveryId });
      return sent;
    }
    if (sent === 'delivered') {
      return sent;
    }

    if (this.handOff === undefined) {
      throw new Error(
        `Delivery of ${describe(unit)} of ${this.emailAddress} failed (${sent.reason}) and no Temporal client was given to start its deliveryWorkflow; pass \`temporal\` in the activities' dependencies.`,
      );
    }
    const outcome = await this.handOff(unit);
    Context.current().log.warn(`Delivery failed; the ${unit.kind === 'batch' ? 'batch' : 'message'} is handed to its deliveryWorkflow`, {
      emailAddress: this.emailAddress,
      ...(unit.kind === 'batch' ? { batchKey: unit.batchKey, events: unit.changes.length } : { messageId: unit.messageId }),
      deliveryId: unit.deliveryId,
      reason: sent.reason,
      handOff: outcome,
    });
    return outcome;
  }

  /** Fetches an added message when the unit is one, and sends the unit within its budget; returns why it failed when it did. */
  private async send(unit: DeliveryUnit): Promise<'delivered' | 'skippedDeleted' | SendFailure> {
    if (unit.kind === 'batch') {
      const batch = this.eventBatch(unit);
      return (await this.sendWithinBudget((signal, deadline) => sendBatch(this.target, batch, signal, deadline))) ?? 'delivered';
    }
    const event = unit.kind === 'messageAdded' ? await this.fetchEvent(unit) : this.changeEvent(unit);
    if (event === undefined) {
      return 'skippedDeleted';
    }
    return (await this.sendWithinBudget((signal, deadline) => this.target.deliver(event, signal, deadline))) ?? 'delivered';
  }

  /**
   * Sends one unit that a deliveryWorkflow retries: an added message, fetched
   * again, or a batch of events. A failed send throws a retryable
   * ApplicationFailure, or a non-retryable one of type DeliveryRejected when
   * the target rejected it for good.
   */
  async sendOrThrow(unit: DeliveryUnit): Promise<'delivered' | 'skippedDeleted'> {
    const sent = await this.send(unit);
    if (typeof sent === 'string') {
      return sent;
    }
    throw ApplicationFailure.create({
      type: sent.retryable ? 'DeliveryFailed' : DELIVERY_REJECTED,
      message: `Delivery of ${describe(unit)} of ${this.emailAddress} failed: ${sent.reason}.`,
      nonRetryable: !sent.retryable,
    });
  }

  private changeEvent(change: MailboxChange): DeliveryEvent {
    return { ...change, emailAddress: this.emailAddress, labelIds: change.labelIds ?? [] };
  }

  private eventBatch(batch: ChangeBatch): EventBatch {
    const events = batch.changes.map((change) => this.changeEvent(change));
    return { kind: 'batch', batchKey: batch.batchKey, deliveryId: batch.deliveryId, emailAddress: this.emailAddress, events };
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
   * Sends one event or batch, retrying retryable errors with backoff until the
   * budget is spent. Returns undefined on success, or why the last attempt
   * failed.
   */
  private async sendWithinBudget(attempt: (signal: AbortSignal, deadline: number) => Promise<void>): Promise<SendFailure | undefined> {
    const cancelled = Context.current().cancellationSignal;
    const deadline = Date.now() + this.config.timeoutMs;
    let pauseMs = RETRY_INITIAL_MS;

    for (;;) {
      const remaining = deadline - Date.now();
      try {
        await attempt(AbortSignal.any([AbortSignal.timeout(remaining), cancelled]), deadline);
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

/** Sends a batch in one request, or event by event through a target without deliverBatch. */
async function sendBatch(target: Delivery, batch: EventBatch, signal: AbortSignal, deadline: number): Promise<void> {
  if (target.deliverBatch !== undefined) {
    return target.deliverBatch(batch, signal, deadline);
  }
  for (const event of batch.events) {
    await target.deliver(event, signal, deadline);
  }
}

function describe(unit: DeliveryUnit): string {
  return unit.kind === 'batch' ? `batch ${unit.batchKey} of ${unit.changes.length} events` : `message ${unit.messageId}`;
}

/**
 * Adds the outcomes of finished units to a sync summary's counts. A message
 * counts under its outcome (`delivered` counts messages only), a handed-off
 * unit also as `failed`, a batch as `eventBatches`, and each event of a
 * delivered batch under its kind.
 */
export function countOutcomes(counts: Record<string, number>, units: DeliveryUnit[], outcomes: ChangeOutcome[], finished: number): void {
  const add = (key: string, amount = 1): void => {
    counts[key] = (counts[key] ?? 0) + amount;
  };
  for (let index = 0; index < finished; index += 1) {
    const outcome = outcomes[index];
    const unit = units[index];
    if (outcome === 'handedOff' || outcome === 'alreadyHandedOff') {
      add('failed');
    }
    if (unit.kind !== 'batch') {
      add(outcome);
      if (outcome === 'delivered') {
        add(unit.kind);
      }
      continue;
    }
    add('eventBatches');
    if (outcome === 'delivered') {
      unit.changes.forEach((change) => add(change.kind));
    } else {
      add(outcome);
    }
  }
}
