import type { WorkflowHandle } from '@temporalio/client';

import { notifySignal } from '../../workflows/mailbox/messages';
import { createMailboxWorld, destroyMailboxWorld, gmailCalls, newMailboxRun, skipTime, startRun, waitForState, type MailboxWorld } from './mailbox-harness';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

describe('mailboxWorkflow timers', () => {
  let world: MailboxWorld;

  beforeAll(async () => {
    world = await createMailboxWorld();
  }, 120_000);

  afterAll(async () => {
    await destroyMailboxWorld(world);
  });

  it('renews the watch after one simulated day', async () => {
    const run = await newMailboxRun(world);
    await run.worker.runUntil(async () => {
      const handle = await startRun(world, run);
      expect(gmailCalls(world, run.emailAddress).watch).toBe(1);

      // The per-mailbox jitter takes at most an hour off the day.
      await skipTime(world, 22 * HOUR);
      expect((await waitForState(handle, () => true)).counters.watchRenewals).toBe(0);
      await skipTime(world, 2 * HOUR);
      const state = await waitForState(handle, (current) => current.counters.watchRenewals === 1);

      expect(gmailCalls(world, run.emailAddress).watch).toBe(2);
      expect(state.historyId).not.toBeNull();
      await stop(handle);
    });
  });

  it('renews before expiry when the interval is longer', async () => {
    const run = await newMailboxRun(world);
    run.input.timing = { renewIntervalMs: 30 * DAY };
    await run.worker.runUntil(async () => {
      const handle = await startRun(world, run);
      const first = await waitForState(handle, (current) => current.watch.expiration !== null);
      const expiresAt = Date.parse(first.watch.expiration!);
      const startedAt = await world.env.currentTimeMs();

      // Gmail's watch lasts seven days; the renewal is due an hour before it ends.
      await skipTime(world, expiresAt - startedAt - 30 * MINUTE);
      await waitForState(handle, (current) => current.counters.watchRenewals === 1);

      expect(await world.env.currentTimeMs()).toBeLessThan(expiresAt);
      await stop(handle);
    });
  });

  it('checks after a quiet period, backing off to the cap', async () => {
    const run = await newMailboxRun(world);
    await run.worker.runUntil(async () => {
      const handle = await startRun(world, run);
      const listCalls = () => gmailCalls(world, run.emailAddress)['history.list'] ?? 0;

      await skipTime(world, 9 * MINUTE);
      expect((await waitForState(handle, () => true)).counters.polls).toBe(0);

      // Checks at 10, 30 (10 + 20), 70 (+ 40), 130 (+ 60, the cap) and 190 minutes.
      const expected = [
        [1 * MINUTE, 1],
        [20 * MINUTE, 2],
        [40 * MINUTE, 3],
        [60 * MINUTE, 4],
        [60 * MINUTE, 5],
      ] as const;
      for (const [advance, polls] of expected) {
        await skipTime(world, advance);
        await waitForState(handle, (current) => current.counters.polls === polls);
      }
      expect(listCalls()).toBe(5);

      await skipTime(world, 59 * MINUTE);
      expect((await waitForState(handle, () => true)).counters.polls).toBe(5);
      await skipTime(world, 1 * MINUTE);
      await waitForState(handle, (current) => current.counters.polls === 6);
      await stop(handle);
    });
  });

  it('resets the quiet period on a notification', async () => {
    const run = await newMailboxRun(world);
    await run.worker.runUntil(async () => {
      const handle = await startRun(world, run);
      await skipTime(world, 10 * MINUTE);
      await waitForState(handle, (current) => current.counters.polls === 1);
      await skipTime(world, 15 * MINUTE);

      // Without the push, the next check would be 5 minutes away (20 after the first).
      const cursor = (await waitForState(handle, () => true)).historyId!;
      await handle.signal(notifySignal, { historyId: cursor });
      await skipTime(world, 9 * MINUTE);
      expect((await waitForState(handle, (current) => current.counters.notifications === 1)).counters.polls).toBe(1);

      await skipTime(world, 1 * MINUTE);
      await waitForState(handle, (current) => current.counters.polls === 2);
      await stop(handle);
    });
  });
});

async function stop(handle: WorkflowHandle): Promise<void> {
  await handle.executeUpdate('stop');
}
