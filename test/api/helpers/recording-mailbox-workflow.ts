/**
 * A stand-in `mailboxWorkflow` for endpoint tests: it records every notify
 * signal and handles the product's state query and updates, so that the
 * tests check what the API and the ingest code send to Temporal, not what the
 * real workflow does with it. It runs on a test task queue only.
 */
import { condition, defineQuery, setHandler } from '@temporalio/workflow';

import { notifySignal, resyncUpdate, stateQuery, stopUpdate, syncNowUpdate } from '../../../workflows/mailbox/messages';
import type { MailboxState, MailboxWorkflowInput, NotifyInput, ResyncInput } from '../../../workflows/mailbox/types';

export const notificationsQuery = defineQuery<NotifyInput[]>('testNotifications');
export const inputQuery = defineQuery<MailboxWorkflowInput>('testInput');

/** Addresses whose workflow task fails on every attempt, as a workflow bug or a nondeterminism error makes it. */
export const FAILING_TASK_PREFIX = 'failing-task-';

export async function mailboxWorkflow(input: MailboxWorkflowInput): Promise<MailboxState> {
  if (input.emailAddress.startsWith(FAILING_TASK_PREFIX)) {
    // A plain Error fails the workflow task, not the workflow, so Temporal retries the task.
    throw new Error('The workflow task fails on purpose.');
  }
  const notifications: NotifyInput[] = [];
  const state: MailboxState = {
    emailAddress: input.emailAddress,
    status: 'watching',
    historyId: '100',
    pendingHistoryId: null,
    watch: { expiration: null },
    lastNotificationAt: null,
    lastSyncAt: null,
    counters: { notifications: 0, staleNotifications: 0, syncs: 0, polls: 0, fullResyncs: 0, messagesDelivered: 0, watchRenewals: 0 },
    lastError: null,
  };

  setHandler(notifySignal, (notification) => {
    notifications.push(notification);
    state.counters.notifications += 1;
  });
  setHandler(notificationsQuery, () => notifications);
  setHandler(inputQuery, () => input);
  setHandler(stateQuery, () => state);
  setHandler(syncNowUpdate, () => {
    state.counters.syncs += 1;
    return { historyId: state.historyId ?? '0', counts: { messagesAdded: 0 } };
  });
  setHandler(
    resyncUpdate,
    (resync) => {
      state.counters.fullResyncs += 1;
      return { historyId: resync.startHistoryId ?? state.historyId ?? '0', counts: { messagesAdded: 0 } };
    },
    {
      validator: (resync: ResyncInput) => {
        if (resync.startHistoryId === '0') {
          throw new Error('startHistoryId 0 is before any history; omit it to run a full resync.');
        }
      },
    },
  );
  setHandler(stopUpdate, () => {
    state.status = 'stopped';
    return state;
  });

  await condition(() => state.status === 'stopped');
  return state;
}
