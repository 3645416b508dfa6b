import { notifySignal, stopUpdate } from '../../workflows/mailbox/messages';
import { createMailboxWorld, destroyMailboxWorld, newMailboxRun, startRun, waitForState, type MailboxWorld } from './mailbox-harness';

const HOUR = 60 * 60 * 1000;

// A real dev server, because queries to a continued run never return on
// Temporal's Java test server (1.38.0), while the dev server handles them.
describe('mailboxWorkflow continue-as-new', () => {
  let world: MailboxWorld;

  beforeAll(async () => {
    world = await createMailboxWorld('dev-server');
  }, 120_000);

  afterAll(async () => {
    await destroyMailboxWorld(world);
  });

  it('keeps cursor, target and counters across continue-as-new', async () => {
    const run = await newMailboxRun(world);
    run.input.maxHistoryEvents = 1; // every loop turn continues as new
    run.input.timing = { followUpBackoffMs: HOUR };
    await run.worker.runUntil(async () => {
      const handle = await startRun(world, run);
      const firstRunId = (await handle.describe()).runId;
      const message = world.sandbox.deliverMessage(run.emailAddress);
      const unreachable = (BigInt(message.historyId) + 1_000n).toString();
      await handle.signal(notifySignal, { historyId: message.historyId });
      await waitForState(handle, (current) => current.historyId === message.historyId);
      await handle.signal(notifySignal, { historyId: unreachable });
      const before = await waitForState(handle, (current) => current.counters.syncs === 2);
      await handle.signal(notifySignal, { historyId: message.historyId });
      const after = await waitForState(handle, (current) => current.counters.staleNotifications === 1);

      const description = await handle.describe();
      expect(description.runId).not.toBe(firstRunId);
      expect(after.historyId).toBe(message.historyId);
      expect(after.pendingHistoryId).toBe(unreachable);
      expect(after.counters).toEqual({ ...before.counters, notifications: 3, staleNotifications: 1 });
      expect(run.delivery.messageIds(run.emailAddress)).toEqual([message.id]);
      await handle.executeUpdate(stopUpdate);
    });
  });

});
