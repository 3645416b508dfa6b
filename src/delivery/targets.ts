import type { Client } from '@temporalio/client';

import type { Delivery } from '../../activities/delivery';
import type { DeliveryRetryPolicy } from '../../workflows/delivery/types';
import type { DeliveryOptions } from '../../workflows/mailbox/types';
import { DEFAULT_METADATA_HEADERS, deliveryOptionsProblem, webhookSecretVariable, type DeliveryTargetName } from './delivery-options';
import { LogDelivery } from './log-target';
import { WebhookDelivery } from './webhook-target';
import { WorkflowDelivery } from './workflow-target';

/** The worker's delivery settings, read from the configuration once at start. */
export interface DeliveryConfig {
  /** Target of mailboxes whose delivery options name none. */
  defaultTarget: DeliveryTargetName;
  /** Maximum number of messages of one sync that are fetched and delivered at once. */
  concurrency: number;
  /** Budget of one message's delivery attempts, in milliseconds. */
  timeoutMs: number;
  metadataHeaders: string[];
  /** Retry schedule of the deliveryWorkflow that a failed message is handed to. */
  retry: DeliveryRetryPolicy;
  /** Returns the signing secret that a `webhookSecretRef` names, or undefined when it is not set. */
  resolveSecret: (secretRef: string) => string | undefined;
}

/**
 * Default retry schedule of a deliveryWorkflow: first retry after 1 minute,
 * doubling up to 1 hour between attempts, and failing after 30 attempts or
 * 24 hours, whichever comes first. With these values the 24-hour limit comes
 * first, after 29 attempts. At most 10 minutes per attempt.
 */
export const DEFAULT_DELIVERY_RETRY: DeliveryRetryPolicy = {
  initialIntervalMs: 60_000,
  backoffCoefficient: 2,
  maximumIntervalMs: 3_600_000,
  maximumAttempts: 30,
  scheduleToCloseMs: 86_400_000,
  attemptTimeoutMs: 600_000,
};

export const DEFAULT_DELIVERY_CONFIG: DeliveryConfig = {
  defaultTarget: 'log',
  concurrency: 8,
  timeoutMs: 10_000,
  metadataHeaders: DEFAULT_METADATA_HEADERS,
  retry: DEFAULT_DELIVERY_RETRY,
  resolveSecret: () => undefined,
};

/** Builds the worker's delivery settings from its environment. */
export function deliveryConfigFrom(
  config: {
    deliveryTarget: DeliveryTargetName;
    deliveryConcurrency: number;
    deliveryTimeoutMs: number;
    deliveryMetadataHeaders: string[];
    deliveryRetryInitialMs: number;
    deliveryRetryBackoff: number;
    deliveryRetryMaxIntervalMs: number;
    deliveryRetryMaxAttempts: number;
    deliveryRetryScheduleToCloseMs: number;
    deliveryRetryAttemptTimeoutMs: number;
  },
  env: Record<string, string | undefined>,
): DeliveryConfig {
  return {
    defaultTarget: config.deliveryTarget,
    concurrency: config.deliveryConcurrency,
    timeoutMs: config.deliveryTimeoutMs,
    metadataHeaders: config.deliveryMetadataHeaders,
    retry: {
      initialIntervalMs: config.deliveryRetryInitialMs,
      backoffCoefficient: config.deliveryRetryBackoff,
      maximumIntervalMs: config.deliveryRetryMaxIntervalMs,
      maximumAttempts: config.deliveryRetryMaxAttempts,
      scheduleToCloseMs: config.deliveryRetryScheduleToCloseMs,
      attemptTimeoutMs: config.deliveryRetryAttemptTimeoutMs,
    },
    resolveSecret: (secretRef) => env[webhookSecretVariable(secretRef)] || undefined,
  };
}

/** A mailbox's delivery options that name no usable target, or a secret the worker does not have. */
export class DeliveryTargetError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DeliveryTargetError';
  }
}

/** Targets and clients that all mailboxes of one worker share. */
export interface SharedTargets {
  /** `log` mailboxes share it and its counts. */
  logTarget: LogDelivery;
  /** Starts the user's workflows of `workflow` mailboxes; undefined where the activities got no Temporal client. */
  workflowClient?: Client;
}

/** Creates the delivery target of a mailbox from its options and the worker's settings. */
export function createDeliveryTarget(options: DeliveryOptions | undefined, config: DeliveryConfig, shared: SharedTargets = { logTarget: new LogDelivery() }): Delivery {
  const resolved = { ...options, target: options?.target ?? config.defaultTarget };
  const problem = deliveryOptionsProblem(resolved);
  if (problem !== undefined) {
    throw new DeliveryTargetError(problem);
  }
  if (resolved.target === 'log') {
    return shared.logTarget;
  }
  if (resolved.target === 'workflow') {
    if (shared.workflowClient === undefined) {
      throw new DeliveryTargetError("the workflow target needs a Temporal client, and this worker's activities were created without one; pass `client` to createWorker");
    }
    return new WorkflowDelivery(shared.workflowClient, resolved.workflowType!, resolved.workflowTaskQueue!);
  }
  const secretRef = resolved.webhookSecretRef!;
  const secret = config.resolveSecret(secretRef);
  if (secret === undefined) {
    throw new DeliveryTargetError(`the webhook signing secret ${JSON.stringify(secretRef)} is not set; set ${webhookSecretVariable(secretRef)} on the workers`);
  }
  return new WebhookDelivery(resolved.webhookUrl!, secret);
}
