import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import { TypedSearchAttributes } from '@temporalio/common';

import { GMAIL_EMAIL_ADDRESS } from '../src/temporal/search-attributes';
import { DELIVERY_WORKFLOW_TYPE, deliveryWorkflowId, type DeliveryRetryPolicy, type DeliveryWorkflowInput } from '../workflows/delivery/types';
import type { CredentialRef, DeliveryOptions } from '../workflows/mailbox/types';
import type { DeliveryUnit } from './delivery';

/** `handedOff` when this sync started the message's deliveryWorkflow, `alreadyHandedOff` when an earlier sync did. */
export type HandOffOutcome = 'handedOff' | 'alreadyHandedOff';

/** The mailbox fields that a deliveryWorkflow's input repeats. */
export interface HandOffMailbox {
  emailAddress: string;
  credential: CredentialRef;
  delivery?: DeliveryOptions;
  historyId?: string;
}

/** Starts deliveryWorkflows for messages that a sync could not deliver. */
export class DeliveryHandOff {
  constructor(
    private readonly client: Client,
    private readonly taskQueue: string,
    private readonly retry: DeliveryRetryPolicy,
  ) {}

  /**
   * Starts the deliveryWorkflow of a message, or of a batch of label and
   * deletion events under its batch key. The id is fixed per message or
   * batch, and the start rejects a duplicate whether the earlier run is still
   * running (conflict policy FAIL) or closed (reuse policy REJECT_DUPLICATE).
   * So a later sync never starts a second one or reruns a failed one.
   */
  async start(mailbox: HandOffMailbox, unit: DeliveryUnit): Promise<HandOffOutcome> {
    const key = unit.kind === 'batch' ? unit.batchKey : unit.messageId;
    const input: DeliveryWorkflowInput = {
      emailAddress: mailbox.emailAddress,
      messageId: key,
      deliveryId: unit.deliveryId,
      threadId: unit.kind === 'batch' ? undefined : unit.threadId,
      historyId: mailbox.historyId,
      credential: mailbox.credential,
      delivery: mailbox.delivery,
      retry: this.retry,
      ...(unit.kind === 'batch' ? { events: unit.changes } : {}),
    };
    try {
      await this.client.workflow.start(DELIVERY_WORKFLOW_TYPE, {
        taskQueue: this.taskQueue,
        workflowId: deliveryWorkflowId(mailbox.emailAddress, key),
        args: [input],
        workflowIdConflictPolicy: 'FAIL',
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
        typedSearchAttributes: new TypedSearchAttributes([{ key: GMAIL_EMAIL_ADDRESS, value: mailbox.emailAddress }]),
        staticSummary:
          unit.kind === 'batch'
            ? `Delivery of ${unit.changes.length} label and deletion events of ${mailbox.emailAddress}`
            : `Delivery of Gmail message ${unit.messageId} of ${mailbox.emailAddress}`,
      });
      return 'handedOff';
    } catch (error) {
      if (error instanceof WorkflowExecutionAlreadyStartedError) {
        return 'alreadyHandedOff';
      }
      throw error;
    }
  }
}
