import { callGmail } from '../src/gmail/errors';
import type { GmailProvider } from '../src/gmail/provider';
import type { MailboxActivities, MailboxRef, ResolveMailboxResult, WatchMailboxInput, WatchMailboxResult } from '../workflows/mailbox/activity-types';
import { ApplicationFailure } from '@temporalio/common';
import { Client } from '@temporalio/client';

import { LogDelivery } from '../src/delivery/log-target';
import { createDeliveryTarget, DEFAULT_DELIVERY_CONFIG, DeliveryTargetError, type DeliveryConfig, type SharedTargets } from '../src/delivery/targets';
import type { DeliveryOptions } from '../workflows/mailbox/types';
import type { DeliveryActivities, DeliveryWorkflowInput, DeliverMessageOutcome } from '../workflows/delivery/types';
import { ChangeDeliverer } from './deliver-changes';
import { addedDeliveryId, type Delivery } from './delivery';
import { fullResync } from './full-resync';
import { DeliveryHandOff } from './hand-off';
import { syncHistory } from './sync-history';

export interface ActivityDependencies {
  gmail: GmailProvider;
  /** One target for every mailbox, for tests and benchmarks; without it each mailbox's delivery options choose the target. */
  delivery?: Delivery;
  /** Targets, concurrency, timeout and headers of delivery; defaults to DEFAULT_DELIVERY_CONFIG. */
  deliveryConfig?: DeliveryConfig;
  /**
   * Client and task queue for starting deliveryWorkflows. Without it a sync
   * whose delivery fails throws, because the message would be lost.
   * `workflowTargetClient` starts the user's workflows for the `workflow`
   * target, with the data converter the user's workers read (see
   * createWorkflowTargetClient). Without it, the `workflow` target uses a
   * client with Temporal's default converter on the same connection and namespace.
   */
  temporal?: { client: Client; taskQueue: string; workflowTargetClient?: Client };
}

/** Failure type of a sync whose mailbox names an unusable target; retried, so that no message is skipped while the worker's settings are fixed. */
export const DELIVERY_TARGET_UNAVAILABLE = 'DeliveryTargetUnavailable';

/**
 * Builds mailboxWorkflow's activities over one Gmail provider and the
 * delivery settings. Each activity is idempotent: watch and stop can repeat,
 * and a repeated sync delivers the same changes again with the same delivery
 * ids.
 */
export function createActivities(dependencies: ActivityDependencies): MailboxActivities & DeliveryActivities {
  const { gmail } = dependencies;
  const config = dependencies.deliveryConfig ?? DEFAULT_DELIVERY_CONFIG;
  const temporal = dependencies.temporal;
  const shared: SharedTargets = { logTarget: new LogDelivery(), workflowClient: temporal && (temporal.workflowTargetClient ?? plainClient(temporal.client)) };
  const targetOf = (options: DeliveryOptions | undefined): Delivery => dependencies.delivery ?? createTarget(options, config, shared);
  const handOff = temporal && new DeliveryHandOff(temporal.client, temporal.taskQueue, config.retry);

  return {
    watchMailbox: (input) => watchMailbox(gmail, input),
    syncHistory: (input) => syncHistory(gmail, targetOf(input.delivery), config, input, handOff),
    fullResync: (input) => fullResync(gmail, targetOf(input.delivery), config, input, handOff),
    deliverMessage: (input) => deliverMessage(gmail, targetOf(input.delivery), config, input),
    stopWatch: (input) => stopWatch(gmail, input),
    resolveMailbox: (input) => resolveMailbox(gmail, input),
  };
}

function createTarget(options: DeliveryOptions | undefined, config: DeliveryConfig, shared: SharedTargets): Delivery {
  try {
    return createDeliveryTarget(options, config, shared);
  } catch (error) {
    if (error instanceof DeliveryTargetError) {
      throw ApplicationFailure.create({ type: DELIVERY_TARGET_UNAVAILABLE, message: `The mailbox's delivery target is unusable: ${error.message}.`, nonRetryable: false });
    }
    throw error;
  }
}

/**
 * deliveryWorkflow's one activity: fetches the message again and sends it
 * through the mailbox's target, or sends the batch of events in its input.
 */
function deliverMessage(provider: GmailProvider, target: Delivery, config: DeliveryConfig, input: DeliveryWorkflowInput): Promise<DeliverMessageOutcome> {
  const gmail = provider.client(input.emailAddress, input.credential);
  const deliverer = new ChangeDeliverer(gmail, target, input.emailAddress, input.delivery, config);
  if (input.events !== undefined) {
    return deliverer.sendOrThrow({ kind: 'batch', batchKey: input.messageId, deliveryId: input.deliveryId, changes: input.events });
  }
  const deliveryId = input.deliveryId || addedDeliveryId(input.emailAddress, input.messageId);
  return deliverer.sendOrThrow({ kind: 'messageAdded', deliveryId, messageId: input.messageId, threadId: input.threadId });
}

/** Creates a client on the same connection and namespace with Temporal's default data converter. */
function plainClient(client: Client): Client {
  return new Client({ connection: client.connection, namespace: client.options.namespace });
}

/** users.watch with labelFilterBehavior (never the deprecated labelFilterAction). */
async function watchMailbox(provider: GmailProvider, input: WatchMailboxInput): Promise<WatchMailboxResult> {
  const gmail = provider.client(input.emailAddress, input.credential);
  const hasLabels = input.watch.labelIds !== undefined && input.watch.labelIds.length > 0;
  const response = await callGmail('watch', () =>
    gmail.users.watch({
      userId: 'me',
      requestBody: {
        topicName: input.watch.topicName,
        labelIds: hasLabels ? input.watch.labelIds : undefined,
        labelFilterBehavior: hasLabels ? (input.watch.labelFilterBehavior ?? 'include') : undefined,
      },
    }),
  );
  const { historyId, expiration } = response.data;
  if (!historyId || !expiration || !/^\d+$/.test(expiration)) {
    throw new Error(`Gmail watch returned historyId ${String(historyId)} and expiration ${String(expiration)} for ${input.emailAddress}; expected decimal strings.`);
  }
  return { historyId, expiration };
}

async function stopWatch(provider: GmailProvider, input: MailboxRef): Promise<void> {
  const gmail = provider.client(input.emailAddress, input.credential);
  await callGmail('stop', () => gmail.users.stop({ userId: 'me' }));
}

async function resolveMailbox(provider: GmailProvider, input: MailboxRef): Promise<ResolveMailboxResult> {
  const gmail = provider.client(input.emailAddress, input.credential);
  const profile = await callGmail('getProfile', () => gmail.users.getProfile({ userId: 'me' }));
  const { emailAddress, historyId } = profile.data;
  if (!emailAddress || !historyId) {
    throw new Error(`Gmail getProfile returned emailAddress ${String(emailAddress)} and historyId ${String(historyId)}; expected both.`);
  }
  return { emailAddress: emailAddress.toLowerCase(), historyId };
}
