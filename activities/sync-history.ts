import { Context } from '@temporalio/activity';

import { callGmail } from '../src/gmail/errors';
import type { GmailProvider } from '../src/gmail/provider';
import type { SyncHistoryInput } from '../workflows/mailbox/activity-types';
import type { SyncResume, SyncSummary } from '../workflows/mailbox/types';
import type { DeliveryConfig } from '../src/delivery/targets';
import { ChangeDeliverer, countOutcomes } from './deliver-changes';
import type { Delivery, DeliveryUnit } from './delivery';
import { toDeliveryUnits } from './event-batch';
import type { DeliveryHandOff } from './hand-off';
import { HistoryFilter } from './history-filter';

/** history.list's maximum page size; fewer pages mean fewer calls and fewer quota units. */
const HISTORY_PAGE_SIZE = 500;

/**
 * Share of the quick sync's 1-minute timeout that its deliveries may spend,
 * leaving room for the Gmail calls. With the per-message budget at its
 * default of 10 seconds, 3 rounds of concurrent deliveries fit.
 */
const INLINE_DELIVERY_BUDGET_MS = 30_000;

/**
 * Pages history.list from the cursor to the end, and fetches and delivers
 * every kept change of a page before reading the next one. Returns the last
 * page's historyId as the new cursor only when all pages were delivered; with
 * `maxPages` or `maxChanges` reached it returns the old cursor, `morePending:
 * true` and where the next sync resumes. A message whose delivery failed is
 * handed to its deliveryWorkflow and still moves the cursor. It counts as
 * `failed`, and as `handedOff`, or as `alreadyHandedOff` when an earlier sync
 * started that workflow. With `includeLabelEvents`, a page's label and
 * deletion events go out as one batch after its added messages, and a batch
 * counts as one change towards `maxChanges`. A regular activity heartbeats
 * its page token and the finished units (messages and batches) of that page,
 * so a retry resumes there. The quick sync, a local
 * activity that cannot heartbeat, delivers at most `maxChanges` and leaves the
 * rest to the regular activity, so a large batch survives a worker crash and a
 * slow target cannot spend the local activity's timeout.
 */
export async function syncHistory(gmailProvider: GmailProvider, target: Delivery, config: DeliveryConfig, input: SyncHistoryInput, handOff?: DeliveryHandOff): Promise<SyncSummary> {
  const context = Context.current();
  const gmail = gmailProvider.client(input.emailAddress, input.credential);
  const filter = new HistoryFilter(input.emailAddress, input.watch, input.delivery);
  const startHandOff = handOff && ((unit: DeliveryUnit) => handOff.start({ emailAddress: input.emailAddress, credential: input.credential, delivery: input.delivery, historyId: input.startHistoryId }, unit));
  const deliverer = new ChangeDeliverer(gmail, target, input.emailAddress, input.delivery, config, startHandOff);
  const position = (pageToken: string | undefined, finishedInPage: number, counts: Record<string, number>): SyncResume => ({
    startHistoryId: input.startHistoryId,
    pageToken,
    finishedInPage,
    counts,
    countsUnits: true,
  });
  const heartbeat = (progress: SyncResume): void => {
    if (!context.info.isLocal) {
      context.heartbeat(progress);
    }
  };

  // 1. Resume from the previous attempt's heartbeat, or else from where the
  //    quick sync stopped, when either read the same history.
  const progress = (context.info.heartbeatDetails as SyncResume | undefined) ?? input.resume;
  const resumed = progress?.startHistoryId === input.startHistoryId ? progress : undefined;
  let changesLeft = changeLimit(input.maxChanges, config);
  const counts: Record<string, number> = { pages: 0, records: 0, delivered: 0, skipped: 0, ...resumed?.counts };
  let pageToken = resumed?.pageToken;
  // A position from a worker before event batches counts other things when the
  // page has label events, so that page starts over: it repeats, never skips.
  let alreadyFinished = resumed?.countsUnits || !input.delivery?.includeLabelEvents ? (resumed?.finishedInPage ?? 0) : 0;

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

    // 3. Fetch and deliver its kept changes, past the units a previous attempt finished.
    const kept = records.flatMap((record) => filter.changes(record));
    const pending = toDeliveryUnits(input.emailAddress, kept).slice(alreadyFinished);
    const changes = pending.slice(0, changesLeft);
    changesLeft -= changes.length;
    const pageStart = { ...counts };
    const outcomes = await deliverer.deliverAll(changes, (finished, partial) => {
      const partialCounts = { ...pageStart };
      countOutcomes(partialCounts, changes, partial, finished);
      heartbeat(position(pageToken, alreadyFinished + finished, partialCounts));
    });
    countOutcomes(counts, changes, outcomes, outcomes.length);
    if (changes.length < pending.length) {
      // Page totals are counted once, by the sync that finishes the page.
      const resume = position(pageToken, alreadyFinished + changes.length, counts);
      return { historyId: input.startHistoryId, counts, morePending: true, resume };
    }
    counts.pages += 1;
    counts.records += records.length;
    counts.skipped += records.reduce((sum, record) => sum + (record.messagesAdded?.length ?? 0), 0) - kept.filter((change) => change.kind === 'messageAdded').length;
    alreadyFinished = 0;

    // 4. Stop at the end, or note where the next attempt resumes.
    const nextPageToken = response.data.nextPageToken;
    if (!nextPageToken) {
      return { historyId, counts, morePending: false };
    }
    const reachedMaxPages = input.maxPages !== undefined && counts.pages - (resumed?.counts.pages ?? 0) >= input.maxPages;
    if (reachedMaxPages || changesLeft <= 0) {
      const resume = position(nextPageToken, 0, counts);
      return { historyId: input.startHistoryId, counts, morePending: true, resume };
    }
    heartbeat(position(nextPageToken, 0, counts));
    pageToken = nextPageToken;
  }
}

/**
 * Kept changes that one call may deliver: unbounded without `maxChanges`, and
 * with it no more than the inline budget allows, so that slow deliveries
 * cannot spend the quick sync's timeout. With a per-message budget above the
 * inline budget the quick sync delivers nothing and hands every change on.
 */
function changeLimit(maxChanges: number | undefined, config: DeliveryConfig): number {
  if (maxChanges === undefined) {
    return Number.POSITIVE_INFINITY;
  }
  const rounds = Math.floor(INLINE_DELIVERY_BUDGET_MS / config.timeoutMs);
  return Math.min(maxChanges, config.concurrency * rounds);
}
