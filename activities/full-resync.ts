import { Context } from '@temporalio/activity';

import { callGmail } from '../src/gmail/errors';
import type { GmailProvider } from '../src/gmail/provider';
import type { FullResyncInput } from '../workflows/mailbox/activity-types';
import type { SyncSummary } from '../workflows/mailbox/types';
import type { DeliveryConfig } from '../src/delivery/targets';
import { ChangeDeliverer, countOutcomes } from './deliver-changes';
import { addedDeliveryId, type Delivery, type DeliveryUnit, type MailboxChange } from './delivery';
import type { DeliveryHandOff } from './hand-off';

/** Messages received this long before the last successful sync are listed again, for clock skew and indexing lag. */
export const FULL_RESYNC_MARGIN_MS = 60 * 60 * 1000;

/** Default bound on the messages one full resync delivers. */
export const DEFAULT_FULL_RESYNC_MAX_MESSAGES = 1000;

const LIST_PAGE_SIZE = 500;

interface ResyncProgress {
  sinceMs: number;
  historyId: string;
  labelIndex: number;
  pageToken?: string;
  /** Leading messages of the page at pageToken that are finished. */
  finishedInPage?: number;
  /** Messages handed to delivery so far, whatever their outcome; bounded by maxMessages. */
  delivered: number;
  counts?: Record<string, number>;
}

/**
 * Recovers after history expired, and backfills. It reads getProfile's
 * historyId first, then lists the messages received since `sinceMs` minus a
 * margin in each watched label (INBOX by default). It delivers them with the
 * same delivery ids as the history path and returns getProfile's historyId as
 * the new cursor, so the next history sync finds changes after it. It
 * heartbeats its label, page token and the finished messages of that page,
 * so a retry resumes there.
 */
export async function fullResync(gmailProvider: GmailProvider, target: Delivery, config: DeliveryConfig, input: FullResyncInput, handOff?: DeliveryHandOff): Promise<SyncSummary> {
  const context = Context.current();
  const gmail = gmailProvider.client(input.emailAddress, input.credential);
  const startHandOff = handOff && ((unit: DeliveryUnit) => handOff.start({ emailAddress: input.emailAddress, credential: input.credential, delivery: input.delivery }, unit));
  const deliverer = new ChangeDeliverer(gmail, target, input.emailAddress, input.delivery, config, startHandOff);
  const maxMessages = input.maxMessages ?? DEFAULT_FULL_RESYNC_MAX_MESSAGES;
  const after = Math.floor((input.sinceMs - FULL_RESYNC_MARGIN_MS) / 1000);
  // NOTE: with labelFilterBehavior `exclude`, INBOX is listed and the excluded labels are not subtracted.
  const labels = input.watch.labelFilterBehavior !== 'exclude' && input.watch.labelIds?.length ? input.watch.labelIds : ['INBOX'];

  // 1. The cursor to return: read before listing, so nothing after the listing is skipped.
  const previous = context.info.heartbeatDetails as ResyncProgress | undefined;
  const progress: ResyncProgress =
    previous?.sinceMs === input.sinceMs ? previous : { sinceMs: input.sinceMs, historyId: await readHistoryId(gmailProvider, input), labelIndex: 0, delivered: 0 };
  const seen = new Set<string>();
  let morePending = false;

  // 2. List and deliver each label's messages, page by page.
  for (; progress.labelIndex < labels.length && !morePending; progress.labelIndex += 1, progress.pageToken = undefined) {
    do {
      const response = await callGmail('messages.list', () =>
        gmail.users.messages.list({
          userId: 'me',
          labelIds: [labels[progress.labelIndex]],
          q: `after:${after}`,
          maxResults: LIST_PAGE_SIZE,
          pageToken: progress.pageToken,
        }),
      );
      const room = maxMessages - progress.delivered;
      const fresh = (response.data.messages ?? []).filter((message) => message.id && !seen.has(message.id));
      fresh.forEach((message) => seen.add(message.id!));
      const alreadyFinished = progress.finishedInPage ?? 0;
      const changes: MailboxChange[] = fresh.slice(alreadyFinished, room).map((message) => ({
        kind: 'messageAdded',
        deliveryId: addedDeliveryId(input.emailAddress, message.id!),
        messageId: message.id!,
        threadId: message.threadId ?? undefined,
      }));
      const pageStart = { ...progress.counts };
      const outcomes = await deliverer.deliverAll(changes, (finished, partial) => {
        const partialCounts = { ...pageStart };
        countOutcomes(partialCounts, changes, partial, finished);
        context.heartbeat({ ...progress, finishedInPage: alreadyFinished + finished, counts: partialCounts } satisfies ResyncProgress);
      });
      progress.counts = { ...pageStart };
      countOutcomes(progress.counts, changes, outcomes, outcomes.length);
      progress.delivered += Math.min(fresh.length, room);
      progress.finishedInPage = 0;
      progress.pageToken = response.data.nextPageToken ?? undefined;
      morePending = fresh.length > room || (progress.delivered >= maxMessages && progress.pageToken !== undefined);
      context.heartbeat(progress);
    } while (progress.pageToken !== undefined && !morePending);
  }

  return { historyId: progress.historyId, counts: { delivered: 0, ...progress.counts, fullResync: 1 }, morePending };
}

async function readHistoryId(gmailProvider: GmailProvider, input: FullResyncInput): Promise<string> {
  const gmail = gmailProvider.client(input.emailAddress, input.credential);
  const profile = await callGmail('getProfile', () => gmail.users.getProfile({ userId: 'me' }));
  if (!profile.data.historyId) {
    throw new Error(`Gmail getProfile returned no historyId for ${input.emailAddress}.`);
  }
  return profile.data.historyId;
}
