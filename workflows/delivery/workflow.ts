import { proxyActivities } from '@temporalio/workflow';

import type { DeliverMessageOutcome, DeliveryActivities, DeliveryWorkflowInput } from './types';

/** Failure type of a target that rejected the event for good (a 4xx other than 408 and 429). */
const NON_RETRYABLE = ['DeliveryRejected'];

/**
 * Retries one message that a sync could not deliver. The retry schedule comes
 * from the input, which the worker sets from its configuration at hand-off.
 * When the schedule is exhausted the activity's failure fails this workflow,
 * so it shows under the mailbox's failures until replay-failures reruns it.
 */
export async function deliveryWorkflow(input: DeliveryWorkflowInput): Promise<DeliverMessageOutcome> {
  const { retry } = input;
  const { deliverMessage } = proxyActivities<DeliveryActivities>({
    summary: attemptSummary(input),
    startToCloseTimeout: retry.attemptTimeoutMs,
    scheduleToCloseTimeout: retry.scheduleToCloseMs,
    retry: {
      initialInterval: retry.initialIntervalMs,
      backoffCoefficient: retry.backoffCoefficient,
      maximumInterval: retry.maximumIntervalMs,
      maximumAttempts: retry.maximumAttempts,
      nonRetryableErrorTypes: NON_RETRYABLE,
    },
  });

  return deliverMessage(input);
}

/** Summary of each attempt in the Temporal UI: ids, counts and the target kind, never the webhook URL. */
export function attemptSummary(input: DeliveryWorkflowInput): string {
  const target = `the ${input.delivery?.target ?? 'default'} target`;
  if (input.events !== undefined) {
    return `deliver batch ${input.messageId} (${input.events.length} label and deletion events) to ${target}`;
  }
  return `messages.get and deliver ${input.messageId} to ${target}`;
}
