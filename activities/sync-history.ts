import { Context } from '@temporalio/activity';

import { callGmail } from '../src/gmail/errors';
import type { GmailProvider } from '../src/gmail/provider';
import type { SyncHistoryInput } from '../workflows/mailbox/activity-types';
import type { SyncSummary } from '../workflows/mailbox/types';
import type { DeliveryConfig } from '../src/delivery/targets';
import { ChangeDeliverer, countOutcomes } from './deliver-changes';
import type { Delivery, MailboxChange } from './delivery';
import type { DeliveryHandOff } from './hand-off';
import { HistoryFilter } from './history-filter';

/** history.list's maximum page size; fewer pages mean fewer calls and fewer quota units. */
const HISTORY_PAGE_SIZE = 500;

/** Heartbeat details: where the next attempt resumes. */
interface SyncProgress {
  startHistoryId: string;
  /** Token of the page being delivered; absent for the first page. */
  pageToken?: string;
  /** Leading kept changes of that page that are finished. */
  finishedInPage?: number;
  /** Counts up to that point. */
  counts: Record<string, number>;
}

/**
 * Pages history.list from the cursor to the end, and fetches and delivers
 * every kept change of a page before reading the next one. Returns the last
 * page's historyId as the new cursor only when all pages were delivered; with
 * `maxPages` reached it returns the old cursor and `morePending: true`. A
 * message whose delivery failed is handed to its deliveryWorkflow and still
 * moves the cursor. It counts as `failed`, and as `handedOff`, or as
 * `alreadyHandedOff` when an earlier sync started that workflow. A regular activity heartbeats its page token and the finished
 * changes of that page, so a retry resumes there.
 * NOTE: a quick sync is a local activity with a 1-minute timeout, which a
 * slow target can spend on one page of 500 messages. The retried attempt then
 * delivers the page again, with the same delivery ids.
 */
export async function syncHistory(gmailProvider: GmailProvider, target: Delivery, config: DeliveryConfig, input: SyncHistoryInput, handOff?: DeliveryHandOff): Promise<SyncSummary> {
  const context = Context.current();
  const gmail = gmailProvider.client(input.emailAddress, input.credential);
  const filter = new HistoryFilter(input.emailAddress, input.watch, input.delivery);
  const startHandOff = handOff && ((change: MailboxChange) => handOff.start({ emailAddress: input.emailAddress, credential: input.credential, delivery: input.delivery, historyId: input.startHistoryId }, change));
  const deliverer = new ChangeDeliverer(gmail, target, input.emailAddress, input.delivery, config, startHandOff);
  const heartbeat = (progress: SyncProgress): void => {
    if (!context.info.isLocal) {
      context.heartbeat(progress);
    }
  };

  // 1. Resume from the previous attempt's heartbeat, when it read the same history.
  const progress = context.info.heartbeatDetails as SyncProgress | undefined;
  const resumed = progress?.startHistoryId === input.startHistoryId ? progress : undefined;
  const counts: Record<string, number> = { pages: 0, records: 0, delivered: 0, skipped: 0, ...resumed?.counts };
  let pageToken = resumed?.pageToken;
  let alreadyFinished = resumed?.finishedInPage ?? 0;

  for (;;) {
    // 2. Read one page.
    const response = await callGmail('history.list', () =>
      gmail.users.history.list({ userId: 'me', startHistoryId: input.startHistoryId, pageToken, maxResults: HISTORY_PAGE_SIZE }),
    );
    const records = response.data.history ?? [];
    const historyId = response.data.historyId;
    if (!historyId) {
      throw new Error(`Gmail history.list returned no historyId for ${input.emailAddress}.`);
    }

    // 3. Fetch and deliver its kept changes, past those a previous attempt finished.
    const kept = records.flatMap((record) => filter.changes(record));
    const changes = kept.slice(alreadyFinished);
    const pageStart = { ...counts };
    const outcomes = await deliverer.deliverAll(changes, (finished, partial) => {
      const partialCounts = { ...pageStart };
      countOutcomes(partialCounts, changes, partial, finished);
      heartbeat({ startHistoryId: input.startHistoryId, pageToken, finishedInPage: alreadyFinished + finished, counts: partialCounts });
    });
    countOutcomes(counts, changes, outcomes, outcomes.length);
    counts.pages += 1;
    counts.records += records.length;
    counts.skipped += records.reduce((sum, record) => sum + (record.messagesAdded?.length ?? 0), 0) - kept.filter((change) => change.kind === 'messageAdded').length;
    alreadyFinished = 0;

    // 4. Stop at the end, or note where the next attempt resumes.
    const nextPageToken = response.data.nextPageToken;
    if (!nextPageToken) {
      return { historyId, counts, morePending: false };
    }
    if (input.maxPages !== undefined && counts.pages >= input.maxPages) {
      return { historyId: input.startHistoryId, counts, morePending: true };
    }
    heartbeat({ startHistoryId: input.startHistoryId, pageToken: nextPageToken, finishedInPage: 0, counts });
    pageToken = nextPageToken;
  }
}
