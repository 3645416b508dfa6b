import { invalidArgument, notFound } from '../google-error';
import { parseHistoryId } from '../history-id';
import type { Mailbox } from '../mailbox';
import type { HistoryKind, HistoryRecord } from '../mailbox-data';
import { formatPageToken, readList, readMaxResults, readPageToken, readString, type Query } from './query-params';

/** historyTypes values, mapped to the record field each selects. */
const HISTORY_TYPES: Record<string, HistoryKind> = {
  messageAdded: 'messagesAdded',
  messageDeleted: 'messagesDeleted',
  labelAdded: 'labelsAdded',
  labelRemoved: 'labelsRemoved',
};

/**
 * Serves users.history.list: records after startHistoryId in increasing
 * order, paged. The response historyId is the newest id history.list can see,
 * which is the current one unless an indexing delay hides recent records.
 * `history` and `nextPageToken` are left out when empty. A start id older
 * than the retained history gets 404, which signals a full sync.
 */
export function listHistory(mailbox: Mailbox, query: Query): Record<string, unknown> {
  // 1. Validate every parameter before looking at the mailbox.
  const rawStart = readString(query, 'startHistoryId');
  if (rawStart === undefined || rawStart === '') {
    throw invalidArgument('Missing required field: startHistoryId');
  }
  const start = parseHistoryId(rawStart);
  if (start === undefined) {
    throw invalidArgument(`Invalid value at 'start_history_id' (TYPE_UINT64), "${rawStart}"`);
  }
  const kinds = readList(query, 'historyTypes').map((type) => {
    const kind = HISTORY_TYPES[type];
    if (!kind) {
      throw invalidArgument(`Invalid value for historyTypes: "${type}"; allowed values are ${Object.keys(HISTORY_TYPES).join(', ')}`);
    }
    return kind;
  });
  const labelId = readString(query, 'labelId');
  const maxResults = readMaxResults(query, 100, 500);
  const resumeAfter = readPageToken(query);

  // 2. Expire the old range, then return 404 for a cursor that falls in it.
  mailbox.pruneHistory();
  if (start < BigInt(mailbox.data.oldestValidStartId)) {
    throw notFound();
  }

  // 3. Select visible records after the cursor (and after the page token) and page them.
  // NOTE: a start id above the current one gets an empty page here; whether
  // Gmail returns that or 404 is not documented.
  const visibleUpTo = BigInt(mailbox.indexedHistoryId());
  const after = resumeAfter !== undefined && resumeAfter > start ? resumeAfter : start;
  const matching = mailbox.data.history.filter((record) => {
    const id = BigInt(record.id);
    return id > after && id <= visibleUpTo && matchesFilters(record, kinds, labelId);
  });
  const page = matching.slice(0, maxResults);
  const response: Record<string, unknown> = {};
  if (page.length > 0) {
    response.history = page.map(toHistoryResource);
  }
  if (matching.length > maxResults) {
    response.nextPageToken = formatPageToken(BigInt(page[page.length - 1].id));
  }
  response.historyId = visibleUpTo.toString();
  return response;
}

function matchesFilters(record: HistoryRecord, kinds: HistoryKind[], labelId: string | undefined): boolean {
  if (kinds.length > 0 && !kinds.includes(record.kind)) {
    return false;
  }
  if (labelId !== undefined) {
    return record.message.labelIds.includes(labelId) || (record.labelIds ?? []).includes(labelId);
  }
  return true;
}

function toHistoryResource(record: HistoryRecord): Record<string, unknown> {
  const { id, threadId } = record.message;
  const entry =
    record.kind === 'labelsAdded' || record.kind === 'labelsRemoved'
      ? { message: { ...record.message }, labelIds: record.labelIds }
      : { message: { ...record.message } };
  return { id: record.id, messages: [{ id, threadId }], [record.kind]: [entry] };
}
