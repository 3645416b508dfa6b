import { compareHistoryIds, isHistoryId } from '../../workflows/mailbox/history-id';
import { DEFAULT_TIMING, Mailbox, renewJitterMs } from '../../workflows/mailbox/mailbox';
import { formatDuration, syncReason, timerSummary } from '../../workflows/mailbox/summaries';

const NOW = Date.parse('2026-01-01T00:00:00Z');
const HOUR = 60 * 60 * 1000;

function newMailbox(): Mailbox {
  const mailbox = new Mailbox({ emailAddress: 'user@example.com', watch: { topicName: 'projects/p/topics/t' }, credential: { provider: 'sandbox' } }, NOW);
  mailbox.watchSucceeded({ historyId: '100', expiration: String(NOW + 7 * 24 * HOUR) }, NOW);
  return mailbox;
}

describe('Mailbox', () => {
  it('takes the first cursor from watch only', () => {
    const mailbox = newMailbox();
    mailbox.watchSucceeded({ historyId: '500', expiration: String(NOW + 7 * 24 * HOUR) }, NOW + HOUR);

    expect(mailbox.state.historyId).toBe('100');
    expect(mailbox.state.counters.watchRenewals).toBe(1);
  });

  it('schedules renewal within the jitter and before expiry', () => {
    const mailbox = newMailbox();
    const renewAt = mailbox.schedule.renewAt!;

    expect(renewAt).toBeLessThanOrEqual(NOW + DEFAULT_TIMING.renewIntervalMs);
    expect(renewAt).toBeGreaterThan(NOW + DEFAULT_TIMING.renewIntervalMs - HOUR);

    mailbox.watchSucceeded({ historyId: '100', expiration: String(NOW + 2 * HOUR) }, NOW);
    expect(mailbox.schedule.renewAt).toBe(NOW + HOUR);
  });

  it('derives jitter from the address', () => {
    const first = renewJitterMs('a@example.com', DEFAULT_TIMING.renewIntervalMs);

    expect(renewJitterMs('a@example.com', DEFAULT_TIMING.renewIntervalMs)).toBe(first);
    expect(renewJitterMs('b@example.com', DEFAULT_TIMING.renewIntervalMs)).not.toBe(first);
    expect(first).toBeLessThan(HOUR);
  });

  it('clears a target after one follow-up', () => {
    const mailbox = newMailbox();
    mailbox.notify({ historyId: '900' }, NOW);
    expect(mailbox.dueWork(NOW)).toBe('sync');

    mailbox.syncSucceeded({ historyId: '120', counts: {} }, 'sync', '900', NOW);
    expect(mailbox.state.pendingHistoryId).toBe('900');
    expect(mailbox.dueWork(NOW)).toBeNull();
    expect(mailbox.dueWork(NOW + DEFAULT_TIMING.followUpBackoffMs)).toBe('sync');

    mailbox.syncSucceeded({ historyId: '130', counts: {} }, 'sync', '900', NOW + DEFAULT_TIMING.followUpBackoffMs);
    expect(mailbox.state.pendingHistoryId).toBeNull();
    expect(mailbox.state.historyId).toBe('130');
  });

  it('syncs again at once when a sync raised the target', () => {
    const mailbox = newMailbox();
    mailbox.notify({ historyId: '110' }, NOW);
    mailbox.notify({ historyId: '150' }, NOW);

    mailbox.syncSucceeded({ historyId: '120', counts: {} }, 'sync', '110', NOW);

    expect(mailbox.dueWork(NOW)).toBe('sync');
  });

  it('runs nothing in needs-reauth', () => {
    const mailbox = newMailbox();
    mailbox.authRevoked('invalid_grant', NOW);
    mailbox.notify({ historyId: '200' }, NOW);

    expect(mailbox.dueWork(NOW + 30 * 24 * HOUR)).toBeNull();
    expect(mailbox.nextDeadline()).toBeNull();
    expect(mailbox.state.historyId).toBe('100');
  });
});

describe('Mailbox timer summaries', () => {
  it('names the quiet-period check while watching', () => {
    const mailbox = newMailbox();

    const next = mailbox.nextTimer()!;

    expect(next).toEqual({ at: NOW + DEFAULT_TIMING.quietPeriodMs, kind: 'quiet-period check' });
    expect(timerSummary(next, mailbox)).toBe('quiet-period check after 10 min without a push');
  });

  it('names the poll and the watch retry while polling', () => {
    const mailbox = newMailbox();
    mailbox.watchFailed('users.watch failed: forbidden', NOW);

    expect(mailbox.nextTimer()).toEqual({ at: NOW + DEFAULT_TIMING.pollIntervalMs, kind: 'poll' });
    expect(timerSummary(mailbox.nextTimer()!, mailbox)).toBe('poll every 5 min while watch fails');
    expect(timerSummary({ at: mailbox.schedule.renewAt!, kind: 'watch retry' }, mailbox)).toBe('watch retry while polling, every 1 h');
    expect(syncReason(mailbox, 'check', NOW)).toBe('poll');
  });

  it('names the follow-up sync and its target', () => {
    const mailbox = newMailbox();
    mailbox.notify({ historyId: '900' }, NOW);
    expect(syncReason(mailbox, 'sync', NOW)).toBe('push to historyId 900');

    mailbox.syncSucceeded({ historyId: '120', counts: {} }, 'sync', '900', NOW);

    const next = mailbox.nextTimer()!;
    expect(next).toEqual({ at: NOW + DEFAULT_TIMING.followUpBackoffMs, kind: 'follow-up sync' });
    expect(timerSummary(next, mailbox)).toBe('follow-up sync: history has not reached historyId 900 yet');
    expect(syncReason(mailbox, 'sync', next.at)).toBe('follow-up for push to historyId 900');
  });

  it('names the renewal when it comes first', () => {
    const mailbox = newMailbox();
    mailbox.watchSucceeded({ historyId: '100', expiration: String(NOW + 2 * HOUR) }, NOW);
    mailbox.schedule.checkAt = null;

    expect(mailbox.nextTimer()).toEqual({ at: NOW + HOUR, kind: 'watch renewal' });
    expect(timerSummary(mailbox.nextTimer()!, mailbox)).toBe(`watch renewal (watch expires ${new Date(NOW + 2 * HOUR).toISOString()})`);
  });

  it('formats durations', () => {
    expect(formatDuration(5_000)).toBe('5 s');
    expect(formatDuration(10 * 60_000)).toBe('10 min');
    expect(formatDuration(HOUR)).toBe('1 h');
    expect(formatDuration(HOUR + 30 * 60_000)).toBe('1 h 30 min');
  });
});

describe('historyId helpers', () => {
  it('compare above 2^53 exactly', () => {
    expect(compareHistoryIds('9007199254740993', '9007199254740992')).toBe(1);
    expect(compareHistoryIds('18446744073709551615', '18446744073709551614')).toBe(1);
    expect(compareHistoryIds('42', '42')).toBe(0);
  });

  it('accept only canonical uint64 decimals', () => {
    expect(isHistoryId('18446744073709551615')).toBe(true);
    expect(isHistoryId('18446744073709551616')).toBe(false);
    expect(isHistoryId('012')).toBe(false);
    expect(isHistoryId('-1')).toBe(false);
    expect(isHistoryId(12)).toBe(false);
  });
});
