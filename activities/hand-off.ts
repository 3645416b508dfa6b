import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import { TypedSearchAttributes } from '@temporalio/common';

import { GMAIL_EMAIL_ADDRESS } from '../src/temporal/search-attributes';
import { DELIVERY_WORKFLOW_TYPE, deliveryWorkflowId, type DeliveryRetryPolicy, type DeliveryWorkflowInput } from '../workflows/delivery/types';
import type { CredentialRef, DeliveryOptions } from '../workflows/mailbox/types';
import type { MailboxChange } from './delivery';

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
   * Starts the message's deliveryWorkflow. The id is fixed per message, and
   * the start rejects a duplicate whether the earlier run is still running
   * (conflict policy FAIL) or closed (reuse policy REJECT_DUPLICATE). So a
   * later sync never starts a second one or reruns a failed one.
   */
  async start(mailbox: HandOffMailbox, change: MailboxChange): Promise<HandOffOutcome> {
    const input: DeliveryWorkflowInput = {
      emailAddress: mailbox.emailAddress,
      messageId: change.messageId,
      deliveryId: change.deliveryId,
      threadId: change.threadId,
      historyId: mailbox.historyId,
      credential: mailbox.credential,
      delivery: mailbox.delivery,
      retry: this.retry,
    };
    try {
      await this.client.workflow.start(DELIVERY_WORKFLOW_TYPE, {
        taskQueue: this.taskQueue,
        workflowId: deliveryWorkflowId(mailbox.emailAddress, change.messageId),
        args: [input],
        workflowIdConflictPolicy: 'FAIL',
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
        typedSearchAttributes: new TypedSearchAttributes([{ key: GMAIL_EMAIL_ADDRESS, value: mailbox.emailAddress }]),
        staticSummary: `Delivery of Gmail message ${change.messageId} of ${mailbox.emailAddress}`,
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
