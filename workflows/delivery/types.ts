/**
 * The contract of deliveryWorkflow: ids and references only. The message is
 * fetched again inside the activity, so its content never enters history, and
 * the webhook secret stays a name that the worker resolves.
 */
import type { MailboxChange } from '../../activities/delivery';
import type { CredentialRef, DeliveryOptions } from '../mailbox/types';

/** Retry schedule of deliverMessage; durations in milliseconds. */
export interface DeliveryRetryPolicy {
  initialIntervalMs: number;
  backoffCoefficient: number;
  maximumIntervalMs: number;
  /** Attempts before the workflow fails, counting the first. */
  maximumAttempts: number;
  /** Limit on all attempts together; the workflow fails when it passes. */
  scheduleToCloseMs: number;
  /** Limit on one attempt, which fetches the message and sends it within the per-message delivery budget. */
  attemptTimeoutMs: number;
}

export interface DeliveryWorkflowInput {
  emailAddress: string;
  /** The message's id, or for a batch of label and deletion events its key `batch-<hash>`. */
  messageId: string;
  /** The same delivery id that the sync used, so the receiver can de-duplicate. */
  deliveryId: string;
  threadId?: string;
  /** The cursor of the sync that handed the message over. */
  historyId?: string;
  credential: CredentialRef;
  delivery?: DeliveryOptions;
  retry: DeliveryRetryPolicy;
  /** Set for a batch: its label and deletion events, ids and labelIds only; nothing is fetched. */
  events?: MailboxChange[];
}

export type DeliverMessageOutcome = 'delivered' | 'skippedDeleted';

export interface DeliveryActivities {
  deliverMessage(input: DeliveryWorkflowInput): Promise<DeliverMessageOutcome>;
}

export const DELIVERY_WORKFLOW_TYPE = 'deliveryWorkflow';

/** Workflow id of a message's delivery workflow; one per message, so a duplicate start is rejected. */
export function deliveryWorkflowId(emailAddress: string, messageId: string): string {
  return `gmail-delivery/${emailAddress.toLowerCase()}/${messageId}`;
}
