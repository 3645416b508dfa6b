/**
 * The one code path from a decoded Pub/Sub message to the mailbox workflow.
 * The push endpoint and the pull subscriber share it, so both follow the same
 * rules. A message that can never be processed is recorded as a dead letter
 * and acknowledged. A message for an address without a running mailbox is
 * counted and acknowledged, and so is one whose signal Temporal accepted. A
 * Temporal failure is thrown, so that Pub/Sub redelivers the message.
 */
import type { Client } from '@temporalio/client';

import type { Logger } from '../logger';
import type { Metrics } from '../metrics/metrics';
import { notifyMailbox } from '../temporal/mailbox-client';
import { mailboxWorkflowId, type NotifyInput } from '../../workflows/mailbox/types';
import type { DeadLetterReason, DecodeResult } from './gmail-notification';

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
 * its deadline.
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
    logger.warn({ source, ...meta, reason: decoded.reason, detail: decoded.detail }, 'dead letter: Pub/Sub message can never be processed');
    return { outcome: 'dead_letter', reason: decoded.reason };
  }

  // 2. Signal the mailbox workflow within the deadline.
  const { emailAddress, historyId } = decoded.notification;
  const workflowId = mailboxWorkflowId(emailAddress);
  const input: NotifyInput = { historyId, messageId: meta.messageId, publishTime: meta.publishTime };
  const stopTimer = deps.metrics.signalSeconds.startTimer({ source });
  let result: 'signalled' | 'no-mailbox';
  try {
    result = await deps.client.withDeadline(Date.now() + deps.signalTimeoutMs, () => notifyMailbox(deps.client, emailAddress, input));
  } catch (error) {
    stopTimer({ result: 'error' });
    logger.error({ source, ...meta, emailAddress, workflowId, historyId, err: error }, 'notify signal failed; Pub/Sub will redeliver');
    throw new TemporalUnavailableError(error);
  }

  // 3. Count the outcome.
  if (result === 'no-mailbox') {
    stopTimer({ result: 'no_mailbox' });
    logger.info({ source, ...meta, emailAddress, workflowId, historyId }, 'notification for an address without a running mailbox; acknowledged');
    return { outcome: 'no_mailbox' };
  }
  stopTimer({ result: 'signalled' });
  logger.debug({ source, ...meta, emailAddress, workflowId, historyId }, 'notification signalled');
  return { outcome: 'signalled' };
}
