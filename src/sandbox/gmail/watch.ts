import type { SandboxClock } from '../clock';
import { GoogleApiError, invalidArgument } from '../google-error';
import { isKnownLabelId } from '../labels';
import type { Mailbox } from '../mailbox';
import type { LabelFilter } from '../mailbox-data';

/** A watch lasts seven days unless renewed, as users.watch documents. */
export const WATCH_LIFETIME_MS = 7 * 24 * 60 * 60 * 1000;

const TOPIC_PATTERN = /^projects\/[^/]+\/topics\/[^/]+$/;

/**
 * users.watch: validates the request body as Gmail does, refuses a topic the
 * sandbox marks as lacking publish rights for Gmail's push service account
 * with Gmail's 403, and replaces any earlier watch of the mailbox.
 */
export function watchMailbox(
  mailbox: Mailbox,
  body: unknown,
  clock: SandboxClock,
  canPublish: (topicName: string) => boolean,
): { historyId: string; expiration: string } {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw invalidArgument('Invalid JSON payload: expected a WatchRequest object');
  }
  const request = body as Record<string, unknown>;
  const topicName = request.topicName;
  if (typeof topicName !== 'string' || topicName === '') {
    throw invalidArgument('Invalid topicName: missing');
  }
  if (!TOPIC_PATTERN.test(topicName)) {
    throw invalidArgument('Invalid topicName does not match projects/SOME-PROJECT/topics/SOME-TOPIC');
  }
  const filter = readLabelFilter(request);
  if (!canPublish(topicName)) {
    throw new GoogleApiError(403, 'User not authorized to perform this action.', 'forbidden');
  }

  const expiration = clock.now() + WATCH_LIFETIME_MS;
  mailbox.data.watch = { topicName, ...filter, expiration };
  return { historyId: mailbox.data.historyId, expiration: String(expiration) };
}

/** users.stop: ends the mailbox's watch; Gmail returns an empty 204. */
export function stopWatch(mailbox: Mailbox): void {
  delete mailbox.data.watch;
}

/** Reads labelIds with labelFilterBehavior, or with the deprecated labelFilterAction it replaced. */
function readLabelFilter(request: Record<string, unknown>): LabelFilter {
  const labelIds = request.labelIds ?? [];
  if (!Array.isArray(labelIds) || labelIds.some((label) => typeof label !== 'string' || !isKnownLabelId(label))) {
    throw invalidArgument(`Invalid labelIds: ${JSON.stringify(labelIds)}`);
  }
  const behavior = request.labelFilterBehavior ?? request.labelFilterAction ?? 'include';
  if (behavior !== 'include' && behavior !== 'exclude') {
    const field = request.labelFilterBehavior !== undefined ? 'labelFilterBehavior' : 'labelFilterAction';
    throw invalidArgument(`Invalid value for ${field}: ${JSON.stringify(behavior)}; allowed values are include, exclude`);
  }
  return { labelIds: labelIds as string[], labelFilterBehavior: behavior };
}

/** Checks whether a change to a message with these labels passes the watch's label filter. */
export function passesLabelFilter(filter: LabelFilter, messageLabelIds: string[]): boolean {
  if (filter.labelIds.length === 0) {
    return true;
  }
  const overlaps = messageLabelIds.some((label) => filter.labelIds.includes(label));
  return filter.labelFilterBehavior === 'include' ? overlaps : !overlaps;
}
