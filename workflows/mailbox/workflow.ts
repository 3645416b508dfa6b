/**
 * mailboxWorkflow: one long-lived workflow per Gmail mailbox. It watches the
 * mailbox, syncs on notifications and quiet-period checks, renews the watch,
 * falls back to polling, and completes on `stop`. The state transitions live
 * in `mailbox.ts`; Gmail calls and failure handling in `steps.ts`.
 */
import {
  allHandlersFinished,
  ApplicationFailure,
  condition,
  continueAsNew,
  log,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';

import { isHistoryId } from './history-id';
import { DEFAULT_MAX_HISTORY_EVENTS, Mailbox } from './mailbox';
import { notifySignal, reauthorizedSignal, resyncUpdate, stateQuery, stopUpdate, syncNowUpdate } from './messages';
import { MailboxRunner } from './runner';
import type { MailboxState, MailboxWorkflowInput, ResyncInput } from './types';

export async function mailboxWorkflow(input: MailboxWorkflowInput): Promise<MailboxState> {
  const mailbox = new Mailbox(input, Date.now());
  const runner = new MailboxRunner(input, mailbox);

  setHandler(stateQuery, () => mailbox.state);
  setHandler(notifySignal, (notification) => runner.onNotify(notification));
  setHandler(reauthorizedSignal, () => runner.onReauthorized());
  setHandler(stopUpdate, () => runner.requestStop(), { validator: () => rejectWhenStopped(mailbox) });
  setHandler(syncNowUpdate, () => runner.requestSync(), { validator: () => rejectUnlessSyncable(mailbox) });
  setHandler(resyncUpdate, (request) => runner.requestResync(request), {
    validator: (request: ResyncInput) => validateResync(mailbox, request),
  });

  await runner.start();
  while (!runner.stopRequested) {
    await runner.waitForWork();
    await runner.runDueWork();
    runner.publishStatus();
    if (shouldContinueAsNew(input) && (await runner.drainForContinueAsNew())) {
      log.info('continuing as new', { historyLength: workflowInfo().historyLength });
      await continueAsNew<typeof mailboxWorkflow>({ ...input, carried: mailbox.carry() });
    }
  }
  await runner.stop();
  await condition(allHandlersFinished);
  return mailbox.state;
}

function shouldContinueAsNew(input: MailboxWorkflowInput): boolean {
  const info = workflowInfo();
  return info.continueAsNewSuggested || info.historyLength >= (input.maxHistoryEvents ?? DEFAULT_MAX_HISTORY_EVENTS);
}

function rejectWhenStopped(mailbox: Mailbox): void {
  if (mailbox.status === 'stopped') {
    throw ApplicationFailure.create({ type: 'MailboxStopped', message: `Mailbox ${mailbox.state.emailAddress} is already stopped.` });
  }
}

function rejectUnlessSyncable(mailbox: Mailbox): void {
  rejectWhenStopped(mailbox);
  if (mailbox.status === 'needs-reauth') {
    throw ApplicationFailure.create({
      type: 'NeedsReauth',
      message: `Mailbox ${mailbox.state.emailAddress} needs new credentials; send the reauthorized signal after renewing them.`,
    });
  }
}

function validateResync(mailbox: Mailbox, request: ResyncInput | undefined): void {
  rejectUnlessSyncable(mailbox);
  const startHistoryId = request?.startHistoryId;
  if (startHistoryId !== undefined && !isHistoryId(startHistoryId)) {
    throw ApplicationFailure.create({
      type: 'InvalidHistoryId',
      message: `startHistoryId ${JSON.stringify(startHistoryId)} is invalid: expected an unsigned 64-bit integer as a decimal string.`,
    });
  }
}
