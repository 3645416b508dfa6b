/**
 * Text that the Temporal UI shows for a mailbox: the summary of each timer
 * and activity, and the workflow's current details. Summaries are user
 * metadata, not commands, so changing their wording does not break replay.
 * They carry ids, counts and times only, never message content, and with
 * payload encryption on they are encrypted like every other payload.
 */
import type { Deadline, Mailbox, MailboxWork } from './mailbox';
import type { MailboxState } from './types';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/** Formats a duration for a summary: `45 s`, `10 min`, `1 h 30 min`. */
export function formatDuration(ms: number): string {
  if (ms < MINUTE) {
    return `${Math.round(ms / 1000)} s`;
  }
  if (ms < HOUR) {
    return `${Math.round(ms / MINUTE)} min`;
  }
  const hours = Math.floor(ms / HOUR);
  const minutes = Math.round((ms % HOUR) / MINUTE);
  return minutes === 0 ? `${hours} h` : `${hours} h ${minutes} min`;
}

/** Summary of the timer that waits for `deadline`. */
export function timerSummary(deadline: Deadline, mailbox: Mailbox): string {
  const { state, schedule, timing } = mailbox;
  switch (deadline.kind) {
    case 'watch renewal':
      return `watch renewal (watch expires ${state.watch.expiration ?? 'unknown'})`;
    case 'watch retry':
      return `watch retry while polling, every ${formatDuration(timing.watchRetryMs)}`;
    case 'quiet-period check':
      return `quiet-period check after ${formatDuration(schedule.quietDelayMs)} without a push`;
    case 'poll':
      return `poll every ${formatDuration(timing.pollIntervalMs)} while watch fails`;
    case 'follow-up sync':
      return `follow-up sync: history has not reached historyId ${state.pendingHistoryId ?? 'none'} yet`;
  }
}

/** Why a sync runs, for its activity summary: the push target, a check, a poll or a follow-up. */
export function syncReason(mailbox: Mailbox, work: MailboxWork, now: number): string {
  const { state, schedule } = mailbox;
  if (work === 'check') {
    return state.status === 'polling' ? 'poll' : 'quiet-period check';
  }
  if (schedule.followUpAt !== null && now >= schedule.followUpAt) {
    return `follow-up for push to historyId ${state.pendingHistoryId ?? 'none'}`;
  }
  if (state.pendingHistoryId !== null) {
    return `push to historyId ${state.pendingHistoryId}`;
  }
  return 'catch-up sync';
}

/** Summary of the users.watch call: the first watch, a renewal, or a retry while polling. */
export function watchSummary(state: MailboxState): string {
  if (state.historyId === null) {
    return 'users.watch: first watch';
  }
  return state.status === 'polling' ? 'users.watch: retry while polling' : 'users.watch: renewal';
}

/** Summary of a history sync: one quick page, or the heartbeating rest of the batch. */
export function historySyncSummary(startHistoryId: string, reason: string, part: 'quick' | 'rest'): string {
  return part === 'quick' ? `history.list from ${startHistoryId} (${reason})` : `history.list from ${startHistoryId}, rest of the batch (${reason})`;
}

export function fullResyncSummary(sinceMs: number, reason: string): string {
  return `full resync since ${iso(sinceMs)} (${reason})`;
}

/**
 * The workflow's current details: status, cursor, last sync and push, the
 * next timer, the running Gmail call, counters and the last error. The UI
 * renders them as Markdown, so each fact is a list item.
 */
export function currentDetails(mailbox: Mailbox, runningCall: string | null): string {
  const { state } = mailbox;
  const next = mailbox.nextTimer();
  const lines = [
    `- status: ${state.status}`,
    `- historyId: ${state.historyId ?? 'none'}${state.pendingHistoryId !== null ? `, push target ${state.pendingHistoryId}` : ''}`,
    `- last sync: ${state.lastSyncAt ?? 'none'}`,
    `- last push: ${state.lastNotificationAt ?? 'none'}`,
    `- watch expires: ${state.watch.expiration ?? 'none'}`,
    `- next timer: ${next !== null ? `${timerSummary(next, mailbox)} at ${iso(next.at)}` : 'none'}`,
  ];
  if (runningCall !== null) {
    lines.push(`- running: ${runningCall}`);
  }
  // The counters keep the names of the state query's `counters`, so one word finds a value in both.
  lines.push(`- counters: ${Object.entries(state.counters).map(([name, value]) => `${name} ${value}`).join(', ')}`);
  if (state.lastError) {
    lines.push(`- last error (${state.lastError.at}): ${state.lastError.message}`);
  }
  return lines.join('\n');
}
