/**
 * Client helpers shared by the API and the ingest paths: start a mailbox,
 * signal it, read its state and send it updates. They take an address that
 * was already resolved through getProfile and lower-cased.
 */
import {
  Client,
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
  type WorkflowHandle,
} from '@temporalio/client';
import { TypedSearchAttributes } from '@temporalio/common';

import {
  notifySignal,
  reauthorizedSignal,
  resyncUpdate,
  stateQuery,
  stopUpdate,
  syncNowUpdate,
} from '../../workflows/mailbox/messages';
import {
  mailboxWorkflowId,
  type MailboxState,
  type MailboxWorkflowInput,
  type NotifyInput,
  type ResyncInput,
  type SyncSummary,
} from '../../workflows/mailbox/types';
import { GMAIL_EMAIL_ADDRESS, GMAIL_SYNC_STATUS } from './search-attributes';

/** Registered name of the mailbox workflow type. */
export const MAILBOX_WORKFLOW_TYPE = 'mailboxWorkflow';

export interface StartMailboxResult {
  emailAddress: string;
  workflowId: string;
  runId: string;
  /** False when a workflow for this mailbox was already running; the API then returns 200, and 201 otherwise. */
  started: boolean;
}

/**
 * Starts the mailbox workflow, or finds the running one. The TypeScript
 * client's start result does not say which happened, so it starts with the
 * fail-on-conflict policy and treats WorkflowExecutionAlreadyStartedError as
 * "already running". A stopped mailbox can be started again.
 */
export async function startMailbox(client: Client, taskQueue: string, input: MailboxWorkflowInput): Promise<StartMailboxResult> {
  const emailAddress = input.emailAddress.toLowerCase();
  const workflowId = mailboxWorkflowId(emailAddress);
  try {
    const handle = await client.workflow.start(MAILBOX_WORKFLOW_TYPE, {
      taskQueue,
      workflowId,
      args: [{ ...input, emailAddress }],
      workflowIdConflictPolicy: 'FAIL',
      workflowIdReusePolicy: 'ALLOW_DUPLICATE',
      typedSearchAttributes: new TypedSearchAttributes([
        { key: GMAIL_EMAIL_ADDRESS, value: emailAddress },
        { key: GMAIL_SYNC_STATUS, value: 'watching' },
      ]),
      staticSummary: `Gmail mailbox ${emailAddress}`,
    });
    return { emailAddress, workflowId, runId: handle.firstExecutionRunId, started: true };
  } catch (error) {
    if (!(error instanceof WorkflowExecutionAlreadyStartedError)) {
      throw error;
    }
    const description = await client.workflow.getHandle(workflowId).describe();
    return { emailAddress, workflowId, runId: description.runId, started: false };
  }
}

function mailboxHandle(client: Client, emailAddress: string): WorkflowHandle {
  return client.workflow.getHandle(mailboxWorkflowId(emailAddress));
}

/**
 * Signals a Gmail notification to the mailbox's running workflow. Returns
 * 'no-mailbox' when no workflow runs for the address; other errors (Temporal
 * unreachable, timeouts) are thrown so that Pub/Sub redelivers.
 */
export async function notifyMailbox(client: Client, emailAddress: string, input: NotifyInput): Promise<'signalled' | 'no-mailbox'> {
  try {
    await mailboxHandle(client, emailAddress).signal(notifySignal, input);
    return 'signalled';
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) {
      return 'no-mailbox';
    }
    throw error;
  }
}

/** Tells a mailbox in `needs-reauth` that its credentials work again. Throws WorkflowNotFoundError for an unknown mailbox. */
export async function reauthorizeMailbox(client: Client, emailAddress: string): Promise<void> {
  await mailboxHandle(client, emailAddress).signal(reauthorizedSignal);
}

/**
 * Returns the mailbox's state: the `state` query while it runs, the final
 * state (the workflow's result) after a stop, or undefined when Temporal has
 * no workflow for the address.
 */
export async function getMailboxState(client: Client, emailAddress: string): Promise<MailboxState | undefined> {
  const handle = mailboxHandle(client, emailAddress);
  try {
    const description = await handle.describe();
    if (description.status.name === 'COMPLETED') {
      return (await handle.result()) as MailboxState;
    }
    return await handle.query(stateQuery);
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) {
      return undefined;
    }
    throw error;
  }
}

/** Stops the mailbox (users.stop, then the workflow completes) and returns its final state. */
export async function stopMailbox(client: Client, emailAddress: string): Promise<MailboxState> {
  return mailboxHandle(client, emailAddress).executeUpdate(stopUpdate);
}

/** Syncs the mailbox from its cursor now. */
export async function syncMailbox(client: Client, emailAddress: string): Promise<SyncSummary> {
  return mailboxHandle(client, emailAddress).executeUpdate(syncNowUpdate);
}

/** Re-reads history from a given id, or runs a full resync, and delivers again with the same delivery ids. */
export async function resyncMailbox(client: Client, emailAddress: string, input: ResyncInput): Promise<SyncSummary> {
  return mailboxHandle(client, emailAddress).executeUpdate(resyncUpdate, { args: [input] });
}
