/**
 * The one code path from a decoded Pub/Sub message to the mailbox workflow.
 * The push endpoint and the pull subscriber share it, so both follow the same
 * rules. A message that can never be processed is recorded as a dead letter
 * and acknowledged. A message for an address without a running mailbox is
 * counted and acknowledged, and so is one whose signal Temporal accepted. A
 * Temporal that is unreachable or times out is thrown as
 * TemporalUnavailableError, so that Pub/Sub redelivers the message. A signal
 * that Temporal rejects for another reason (INVALID_ARGUMENT, for example)
 * would fail the same way on every redelivery, so it becomes a dead letter.
 */
import type { Client } from '@temporalio/client';

import type { Logger } from '../logger';
import type { Metrics } from '../metrics/metrics';
import { notifyMailbox } from '../temporal/mailbox-client';
import { mailboxWorkflowId, type NotifyInput } from '../../workflows/mailbox/types';
import type { DeadLetterReason, DecodeResult } from './gmail-notification';
import { isTemporalUnavailable } from './temporal-failure';

export type IngestSource = 'push' | 'pull';

/** The log methods ingest uses; a pino logger and Fastify's request logger both fit. */
export type IngestLogger = Pick<Logger, 'debug' | 'info' | 'warn' | 'error'>;

export interface IngestDeps {
  client: Client;
  metrics: Metrics;
  /** Deadline of one signal call, in milliseconds. */
  signalTimeoutMs: number;
}

/** Pub/Sub metadata that travels with the message into logs and the signal. */
export interface PubsubMessageMeta {
  messageId?: string;
  publishTime?: string;
  subscription?: string;
  deliveryAttempt?: number;
}

export type IngestResult =
  | { outcome: 'signalled' | 'no_mailbox' }
  | { outcome: 'dead_letter'; reason: DeadLetterReason };

/** Maximum length of a messageId passed into the signal, in characters. The Pub/Sub ids in the test fixtures have 16 or 17 digits. */
export const MESSAGE_ID_MAX_LENGTH = 128;
/** Maximum length of a publishTime passed into the signal, in characters. */
export const PUBLISH_TIME_MAX_LENGTH = 64;
/** RFC 3339 date-time, as Pub/Sub writes publishTime, for example 2021-02-26T19:13:55.749Z. */
const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:[Zz]|[+-]\d{2}:\d{2})$/;

/**
 * Builds the notify signal's input. A messageId or publishTime that is too
 * long or, for publishTime, not RFC 3339 is left out of the signal and
 * logged, because the historyId alone is enough to sync.
 */
function notifyInput(historyId: string, meta: PubsubMessageMeta, logger: IngestLogger, source: IngestSource): NotifyInput {
  const input: NotifyInput = { historyId };
  if (meta.messageId !== undefined) {
    if (meta.messageId.length <= MESSAGE_ID_MAX_LENGTH) {
      input.messageId = meta.messageId;
    } else {
      logger.warn({ source, historyId, messageIdLength: meta.messageId.length }, `messageId longer than ${MESSAGE_ID_MAX_LENGTH} characters left out of the notify signal`);
    }
  }
  if (meta.publishTime !== undefined) {
    if (meta.publishTime.length <= PUBLISH_TIME_MAX_LENGTH && RFC3339.test(meta.publishTime)) {
      input.publishTime = meta.publishTime;
    } else {
      logger.warn(
        { source, historyId, messageId: input.messageId, publishTimeLength: meta.publishTime.length },
        `publishTime that is not an RFC 3339 timestamp of at most ${PUBLISH_TIME_MAX_LENGTH} characters left out of the notify signal`,
      );
    }
  }
  return input;
}

/** Thrown when Temporal did not accept the signal; the message must be redelivered. */
export class TemporalUnavailableError extends Error {
  constructor(cause: unknown) {
    super(`Temporal did not accept the notify signal: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = 'TemporalUnavailableError';
  }
}

/**
 * Records a dead letter or signals the mailbox. Throws
 * TemporalUnavailableError when Temporal is unreachable or the signal passes
 * its deadline. Any other signal error is recorded as a `signal_rejected`
 * dead letter.
 */
export async function ingestNotification(
  deps: IngestDeps,
  source: IngestSource,
  decoded: DecodeResult,
  meta: PubsubMessageMeta,
  logger: IngestLogger,
): Promise<IngestResult> {
  // 1. Data that can never be processed: acknowledge and record.
  if (!decoded.ok) {
    deps.metrics.deadLetters.inc({ source, reason: decoded.reason });
    logger.warn(
      { source, ...meta, messageId: meta.messageId?.slice(0, MESSAGE_ID_MAX_LENGTH), reason: decoded.reason, detail: decoded.detail },
      'dead letter: Pub/Sub message can never be processed');
    return { outcome: 'dead_letter', reason: decoded.reason };
  }

  // 2. Signal the mailbox workflow within the deadline.
  const { emailAddress, historyId } = decoded.notification;
  const workflowId = mailboxWorkflowId(emailAddress);
  const input = notifyInput(historyId, meta, logger, source);
  // Logs carry the checked fields only, so an oversized messageId never reaches them.
  const ids = { source, ...meta, messageId: input.messageId, publishTime: input.publishTime, emailAddress, workflowId, historyId };
  const stopTimer = deps.metrics.signalSeconds.startTimer({ source });
  let result: 'signalled' | 'no-mailbox';
  try {
    result = await deps.client.withDeadline(Date.now() + deps.signalTimeoutMs, () => notifyMailbox(deps.client, emailAddress, input));
  } catch (error) {
    stopTimer({ result: 'error' });
    if (isTemporalUnavailable(error)) {
      logger.error({ ...ids, err: error }, 'notify signal failed; Pub/Sub will redeliver');
      throw new TemporalUnavailableError(error);
    }
    deps.metrics.deadLetters.inc({ source, reason: 'signal_rejected' });
    logger.error({ ...ids, reason: 'signal_rejected', err: error }, 'dead letter: Temporal rejected the notify signal; acknowledged');
    return { outcome: 'dead_letter', reason: 'signal_rejected' };
  }

  // 3. Count the outcome.
  if (result === 'no-mailbox') {
    stopTimer({ result: 'no_mailbox' });
    logger.info(ids, 'notification for an address without a running mailbox; acknowledged');
    return { outcome: 'no_mailbox' };
  }
  stopTimer({ result: 'signalled' });
  logger.debug(ids, 'notification signalled');
  return { outcome: 'signalled' };
}
