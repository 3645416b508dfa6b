import { invalidArgument } from '../google-error';
import type { Mailbox } from '../mailbox';
import type { StoredMessage } from '../mailbox-data';
import { formatPageToken, readBoolean, readList, readMaxResults, readPageToken, readString, type Query } from './query-params';

interface TimeRange {
  afterMs?: number;
  beforeMs?: number;
}

/**
 * users.messages.list: newest first, filtered by every label in `labelIds`
 * and by `q`, paged by `maxResults` (default 100, max 500). SPAM and TRASH
 * are left out unless includeSpamTrash is true. An empty result has no
 * `messages` field, only `resultSizeEstimate: 0`.
 */
export function listMessages(mailbox: Mailbox, query: Query): Record<string, unknown> {
  const labelIds = readList(query, 'labelIds');
  const range = parseSearchQuery(readString(query, 'q') ?? '');
  const includeSpamTrash = readBoolean(query, 'includeSpamTrash');
  const maxResults = readMaxResults(query, 100, 500);
  const offset = Number(readPageToken(query) ?? 0n);

  const matching = [...mailbox.data.messages]
    .reverse()
    .filter((message) => labelIds.every((label) => message.labelIds.includes(label)))
    .filter((message) => includeSpamTrash || !message.labelIds.some((label) => label === 'SPAM' || label === 'TRASH'))
    .filter((message) => inRange(message, range));
  const page = matching.slice(offset, offset + maxResults);

  const response: Record<string, unknown> = {};
  if (page.length > 0) {
    response.messages = page.map(({ id, threadId }) => ({ id, threadId }));
  }
  if (offset + maxResults < matching.length) {
    response.nextPageToken = formatPageToken(BigInt(offset + maxResults));
  }
  response.resultSizeEstimate = page.length;
  return response;
}

/**
 * Parses the subset of Gmail search that the product uses: `after:` and
 * `before:` with epoch seconds or a YYYY/MM/DD date. Any other term is
 * rejected with 400 rather than ignored, because ignoring it would return
 * more messages than Gmail does and hide a product bug.
 * NOTE: Gmail reads dates in Pacific time; the sandbox reads them as UTC.
 */
export function parseSearchQuery(q: string): TimeRange {
  const range: TimeRange = {};
  for (const term of q.split(/\s+/).filter(Boolean)) {
    const match = /^(after|before):(.+)$/i.exec(term);
    const ms = match ? parseSearchTime(match[2]) : undefined;
    if (!match || ms === undefined) {
      throw invalidArgument(`Invalid q: the sandbox supports only after: and before: with epoch seconds or YYYY/MM/DD, got "${term}"`);
    }
    if (match[1].toLowerCase() === 'after') {
      range.afterMs = ms;
    } else {
      range.beforeMs = ms;
    }
  }
  return range;
}

function parseSearchTime(value: string): number | undefined {
  if (/^\d+$/.test(value)) {
    return Number(value) * 1000;
  }
  const date = /^(\d{4})[/-](\d{1,2})[/-](\d{1,2})$/.exec(value);
  return date ? Date.UTC(Number(date[1]), Number(date[2]) - 1, Number(date[3])) : undefined;
}

function inRange(message: StoredMessage, range: TimeRange): boolean {
  // Gmail's after: is exclusive at second precision and before: is exclusive too.
  const seconds = Math.floor(message.internalDate / 1000) * 1000;
  return (range.afterMs === undefined || seconds > range.afterMs) && (range.beforeMs === undefined || seconds < range.beforeMs);
}
