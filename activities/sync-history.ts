import { Context } from '@temporalio/activity';

import { callGmail } from '../src/gmail/errors';
import type { GmailProvider } from '../src/gmail/provider';
import type { SyncHistoryInput } from '../workflows/mailbox/activity-types';
import type { SyncSummary } from '../workflows/mailbox/types';
import type { Delivery } from './delivery';
import { HistoryFilter } from './history-filter';

/** history.list's maximum page size; fewer pages mean fewer calls and fewer quota units. */
const HISTORY_PAGE_SIZE = 500;

/** Heartbeat details: where the next attempt resumes. */
interface SyncProgress {
  startHistoryId: string;
  pageToken: string;
  counts: Record<string, number>;
}

/**
 * Pages history.list from the cursor to the end and hands every kept change
 * to delivery before reading the next page. Returns the last page's
 * historyId as the new cursor only when all pages were delivered; with
 * `maxPages` reached it returns the old cursor and `morePending: true`.
 * A regular activity heartbeats the next page token, so a retry resumes there.
 */
export async function syncHistory(gmailProvider: GmailProvider, delivery: Delivery, input: SyncHistoryInput): Promise<SyncSummary> {
  const context = Context.current();
  const gmail = gmailProvider.client(input.emailAddress, input.credential);
  const filter = new HistoryFilter(input.emailAddress, input.watch, input.delivery);

  // 1. Resume from the previous attempt's heartbeat, when it read the same history.
  const progress = context.info.heartbeatDetails as SyncProgress | undefined;
  const resumed = progress?.startHistoryId === input.startHistoryId ? progress : undefined;
  const counts: Record<string, number> = { pages: 0, records: 0, delivered: 0, skipped: 0, ...resumed?.counts };
  let pageToken = resumed?.pageToken;

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

    // 3. Deliver its kept changes.
    const changes = records.flatMap((record) => filter.changes(record));
    await delivery.deliver(input.emailAddress, changes, input.delivery);
    counts.pages += 1;
    counts.records += records.length;
    counts.delivered += changes.length;
    counts.skipped += records.reduce((sum, record) => sum + (record.messagesAdded?.length ?? 0), 0) - changes.filter((change) => change.kind === 'messageAdded').length;
    for (const change of changes) {
      counts[change.kind] = (counts[change.kind] ?? 0) + 1;
    }

    // 4. Stop at the end, or note where the next attempt resumes.
    const nextPageToken = response.data.nextPageToken;
    if (!nextPageToken) {
      return { historyId, counts, morePending: false };
    }
    if (input.maxPages !== undefined && counts.pages >= input.maxPages) {
      return { historyId: input.startHistoryId, counts, morePending: true };
    }
    if (!context.info.isLocal) {
      context.heartbeat({ startHistoryId: input.startHistoryId, pageToken: nextPageToken, counts } satisfies SyncProgress);
    }
    pageToken = nextPageToken;
  }
}
