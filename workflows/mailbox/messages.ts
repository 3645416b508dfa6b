/**
 * Signals, updates and queries of mailboxWorkflow. The API and the ingest
 * paths import these definitions, never the workflow logic.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';

import type { MailboxState, NotifyInput, ResyncInput, SyncSummary } from './types';

/** A Gmail push for this mailbox. Signals have no validators, so ingest normalises the payload first. */
export const notifySignal = defineSignal<[NotifyInput]>('notify');

/** Credentials were renewed after `needs-reauth`; syncing resumes from the kept cursor. */
export const reauthorizedSignal = defineSignal('reauthorized');

/** Runs `users.stop`, completes the workflow and returns the final state. */
export const stopUpdate = defineUpdate<MailboxState>('stop');

/** Syncs from the cursor now. */
export const syncNowUpdate = defineUpdate<SyncSummary>('syncNow');

/** Re-reads history from `startHistoryId`, or runs a full resync without it. */
export const resyncUpdate = defineUpdate<SyncSummary, [ResyncInput]>('resync');

export const stateQuery = defineQuery<MailboxState>('state');
