import { compareHistoryIds, isHistoryId } from '../../workflows/mailbox/history-id';
import { DEFAULT_TIMING, Mailbox, renewJitterMs } from '../../workflows/mailbox/mailbox';

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
