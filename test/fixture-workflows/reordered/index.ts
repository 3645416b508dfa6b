/**
 * gmail-sync's workflows with one deliberate nondeterministic change, for the
 * replay command's tests: mailboxWorkflow starts a timer before its first
 * users.watch, so its first command differs from every recorded history.
 * deliveryWorkflow is unchanged and must still replay.
 */
import { sleep } from '@temporalio/workflow';

import { mailboxWorkflow as currentMailboxWorkflow } from '../../../workflows/mailbox/workflow';
import type { MailboxState, MailboxWorkflowInput } from '../../../workflows/mailbox/types';

export { deliveryWorkflow } from '../../../workflows/delivery/workflow';

export async function mailboxWorkflow(input: MailboxWorkflowInput): Promise<MailboxState> {
  await sleep('1 second');
  return currentMailboxWorkflow(input);
}
