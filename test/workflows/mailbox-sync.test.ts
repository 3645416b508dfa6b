import { WorkflowUpdateFailedError } from '@temporalio/client';

import { createSandboxGmailProvider, resolveMailboxAddress } from '../../src/gmail';
import { startMailbox } from '../../src/temporal/mailbox-client';
import { notifySignal, reauthorizedSignal, resyncUpdate, stopUpdate, syncNowUpdate } from '../../workflows/mailbox/messages';
import { mailboxWorkflowId, type MailboxState } from '../../workflows/mailbox/types';
import {
  alignSandboxClock,
  createMailboxWorld,
  destroyMailboxWorld,
  gmailCalls,
  newMailboxRun,
  skipTime,
  startRun,
  waitForState,
  type MailboxWorld,
} from './mailbox-harness';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

describe('mailboxWorkflow', () => {
  let world: MailboxWorld;

  beforeAll(async () => {
    world = await createMailboxWorld();
  }, 120_000);

  afterAll(async () => {
    await destroyMailboxWorld(world);
  });

  const listCalls = (emailAddress: string): number => gmailCalls(world, emailAddress)['history.list'] ?? 0;

  it('syncs a notified message and delivers it once', async () => {
    const run = await newMailboxRun(world);
    await run.worker.runUntil(async () => {
      const handle = await startRun(world, run);
      const message = world.sandbox.deliverMessage(run.emailAddress, { subject: 'hello' });
      await handle.signal(notifySignal, { historyId: message.historyId });

      const state = await waitForState(handle, (current) => current.counters.syncs === 1);

      expect(state.historyId).toBe(message.historyId);
      expect(state.pendingHistoryId).toBeNull();
      expect(run.delivery.deliveryIds(run.emailAddress)).toEqual([`${run.emailAddress}/${message.id}`]);
      await handle.executeUpdate(stopUpdate);
    });
  });

  it('coalesces a burst during a slow sync into two history.list calls', async () => {
    const run = await newMailboxRun(world);
    await run.worker.runUntil(async () => {
      const handle = await startRun(world, run);
      world.sandbox.addFault({ method: 'history.list', emailAddress: run.emailAddress, latencyMs: 1500, count: 1 });

      const first = world.sandbox.deliverMessage(run.emailAddress);
      await handle.signal(notifySignal, { historyId: first.historyId });
      const burst = [];
      for (let index = 0; index < 50; index += 1) {
        const message = world.sandbox.deliverMessage(run.emailAddress);
        burst.push(message);
        await handle.signal(notifySignal, { historyId: message.historyId });
      }

      const last = burst[burst.length - 1];
      const state = await waitForState(handle, (current) => current.historyId === last.historyId && current.pendingHistoryId === null);

      expect(listCalls(run.emailAddress)).toBeLessThanOrEqual(2);
      expect(state.counters.notifications).toBe(51);
      expect(run.delivery.messageIds(run.emailAddress).sort()).toEqual([first, ...burst].map((message) => message.id).sort());
      await handle.executeUpdate(stopUpdate);
    });
  });

  it('hands a large batch to the regular sync', async () => {
    const run = await newMailboxRun(world);
    await run.worker.runUntil(async () => {
      const handle = await startRun(world, run);
      const messages = Array.from({ length: 30 }, () => world.sandbox.deliverMessage(run.emailAddress));
      const last = messages[messages.length - 1];
      await handle.signal(notifySignal, { historyId: last.historyId });

      const state = await waitForState(handle, (current) => current.historyId === last.historyId);

      expect(run.delivery.delivered).toHaveLength(30);
      expect(run.delivery.messageIds(run.emailAddress).sort()).toEqual(messages.map((message) => message.id).sort());
      expect(state.counters.messagesDelivered).toBe(30);
      const { events } = await handle.fetchHistory();
      const scheduled = (events ?? []).filter((event) => event.activityTaskScheduledEventAttributes?.activityType?.name === 'syncHistory');
      expect(scheduled).toHaveLength(1);
      await handle.executeUpdate(stopUpdate);
    });
  });

  it('counts duplicate and out-of-order notifications as no-ops', async () => {
    const run = await newMailboxRun(world);
    await run.worker.runUntil(async () => {
      const handle = await startRun(world, run);
      const older = world.sandbox.deliverMessage(run.emailAddress);
      const newer = world.sandbox.deliverMessage(run.emailAddress);
      await handle.signal(notifySignal, { historyId: newer.historyId });
      await waitForState(handle, (current) => current.historyId === newer.historyId);
      const callsAfterSync = listCalls(run.emailAddress);

      await handle.signal(notifySignal, { historyId: newer.historyId });
      await handle.signal(notifySignal, { historyId: older.historyId });
      const state = await waitForState(handle, (current) => current.counters.notifications === 3);

      expect(state.counters.staleNotifications).toBe(2);
      expect(state.pendingHistoryId).toBeNull();
      expect(listCalls(run.emailAddress)).toBe(callsAfterSync);
      await handle.executeUpdate(stopUpdate);
    });
  });

  it('gives up on a target history never reaches', async () => {
    const run = await newMailboxRun(world);
    await run.worker.runUntil(async () => {
      const handle = await startRun(world, run);
      const cursor = (await waitForState(handle, () => true)).historyId!;
      const unreachable = (BigInt(cursor) + 1_000_000n).toString();

      await handle.signal(notifySignal, { historyId: unreachable });
      await waitForState(handle, (current) => current.counters.syncs === 1);
      await skipTime(world, 5_000);
      const state = await waitForState(handle, (current) => current.pendingHistoryId === null);

      // The sync and its one follow-up; then nothing until the quiet-period check.
      expect(state.counters.syncs).toBe(2);
      expect(listCalls(run.emailAddress)).toBe(2);
      expect(state.historyId).toBe(cursor);
      await handle.executeUpdate(stopUpdate);
    });
  });

  it('compares historyIds above 2^53 exactly', async () => {
    const start = '9007199254740993'; // 2^53 + 1: Number() rounds it to 2^53
    const run = await newMailboxRun(world);
    world.sandbox.createMailbox({ emailAddress: run.emailAddress, historyId: start });
    await run.worker.runUntil(async () => {
      const handle = await startRun(world, run);
      expect((await waitForState(handle, () => true)).historyId).toBe(start);

      // Equal to the cursor as a Number, lower as an integer: a no-op.
      await handle.signal(notifySignal, { historyId: '9007199254740992' });
      await waitForState(handle, (current) => current.counters.staleNotifications === 1);

      const message = world.sandbox.deliverMessage(run.emailAddress);
      expect(BigInt(message.historyId)).toBeGreaterThan(BigInt(start));
      await handle.signal(notifySignal, { historyId: message.historyId });
      const state = await waitForState(handle, (current) => current.historyId === message.historyId);

      expect(state.counters.staleNotifications).toBe(1);
      expect(run.delivery.messageIds(run.emailAddress)).toEqual([message.id]);
      await handle.executeUpdate(stopUpdate);
    });
  });

  it('runs a full resync after history.list 404', async () => {
    const run = await newMailboxRun(world);
    await run.worker.runUntil(async () => {
      const handle = await startRun(world, run);
      const before = world.sandbox.deliverMessage(run.emailAddress);
      await handle.signal(notifySignal, { historyId: before.historyId });
      await waitForState(handle, (current) => current.historyId === before.historyId);

      // The cursor falls out of Gmail's retained history while messages arrive.
      const unnotified = world.sandbox.deliverMessage(run.emailAddress);
      world.sandbox.updateMailbox(run.emailAddress, { historyRetentionMs: MINUTE });
      world.sandbox.advanceClock(HOUR);
      const missed = [unnotified, world.sandbox.deliverMessage(run.emailAddress), world.sandbox.deliverMessage(run.emailAddress)];
      await handle.signal(notifySignal, { historyId: missed[2].historyId });
      const state = await waitForState(handle, (current) => current.counters.fullResyncs === 1);

      const profileHistoryId = world.sandbox.getMailbox(run.emailAddress).historyId;
      expect(state.historyId).toBe(profileHistoryId);
      expect(state.pendingHistoryId).toBeNull();
      expect(run.delivery.messageIds(run.emailAddress)).toEqual(expect.arrayContaining([before.id, ...missed.map((message) => message.id)]));
      expect(gmailCalls(world, run.emailAddress).getProfile).toBeGreaterThanOrEqual(1);
      await handle.executeUpdate(stopUpdate);
    });
  });

  it('retries history.list after 429 with Retry-After', async () => {
    const run = await newMailboxRun(world);
    await run.worker.runUntil(async () => {
      const handle = await startRun(world, run);
      world.sandbox.addFault({ method: 'history.list', emailAddress: run.emailAddress, status: 429, retryAfterSeconds: 1, count: 1 });
      const message = world.sandbox.deliverMessage(run.emailAddress);
      await handle.signal(notifySignal, { historyId: message.historyId });

      const state = await waitForState(handle, (current) => current.historyId === message.historyId);

      expect(listCalls(run.emailAddress)).toBe(2);
      expect(state.lastError).toBeNull();
      expect(run.delivery.messageIds(run.emailAddress)).toEqual([message.id]);
      await handle.executeUpdate(stopUpdate);
    });
  });

  it('waits in needs-reauth until reauthorized', async () => {
    const run = await newMailboxRun(world);
    await run.worker.runUntil(async () => {
      const handle = await startRun(world, run);
      const kept = (await waitForState(handle, () => true)).historyId;
      world.sandbox.updateMailbox(run.emailAddress, { invalidGrant: true, rejectAccessTokens: true });
      const message = world.sandbox.deliverMessage(run.emailAddress);
      await handle.signal(notifySignal, { historyId: message.historyId });

      const revoked = await waitForState(handle, (current) => current.status === 'needs-reauth');
      expect(revoked.historyId).toBe(kept);
      expect(revoked.lastError?.message).toMatch(/invalid_grant/);
      expect((await handle.describe()).searchAttributes.GmailSyncStatus).toEqual(['needs-reauth']);

      // Nothing runs against Gmail meanwhile: no poll, no renewal.
      const callsWhileRevoked = JSON.stringify(gmailCalls(world, run.emailAddress));
      await skipTime(world, 2 * DAY);
      expect(JSON.stringify(gmailCalls(world, run.emailAddress))).toBe(callsWhileRevoked);
      await expect(handle.executeUpdate(syncNowUpdate)).rejects.toThrow(WorkflowUpdateFailedError);

      world.sandbox.updateMailbox(run.emailAddress, { invalidGrant: false, rejectAccessTokens: false });
      await handle.signal(reauthorizedSignal);
      const resumed = await waitForState(handle, (current) => current.status === 'watching' && current.historyId === message.historyId);

      expect(resumed.counters.fullResyncs).toBe(0);
      expect(run.delivery.messageIds(run.emailAddress)).toEqual([message.id]);
      await handle.executeUpdate(stopUpdate);
    });
  });

  it('polls with the fix in lastError when watch is forbidden', async () => {
    const run = await newMailboxRun(world);
    world.sandbox.setTopicPublishRights(run.topicName, false);
    await run.worker.runUntil(async () => {
      const handle = await startRun(world, run);
      const polling = await waitForState(handle, (current) => current.status === 'polling' && current.historyId !== null);
      expect(polling.lastError?.message).toContain('gmail-api-push@system.gserviceaccount.com');
      expect((await handle.describe()).searchAttributes.GmailSyncStatus).toEqual(['polling']);

      const message = world.sandbox.deliverMessage(run.emailAddress);
      await skipTime(world, 5 * MINUTE);
      await waitForState(handle, (current) => current.historyId === message.historyId);
      expect(run.delivery.messageIds(run.emailAddress)).toEqual([message.id]);

      // Once the topic allows publishing, the next watch retry returns to watching.
      world.sandbox.setTopicPublishRights(run.topicName, true);
      await skipTime(world, HOUR);
      await waitForState(handle, (current) => current.status === 'watching');
      await handle.executeUpdate(stopUpdate);
    });
  });

  it('stops with users.stop and completes', async () => {
    const run = await newMailboxRun(world);
    await run.worker.runUntil(async () => {
      const handle = await startRun(world, run);
      const final = await handle.executeUpdate(stopUpdate);

      expect(final.status).toBe('stopped');
      expect(gmailCalls(world, run.emailAddress).stop).toBe(1);
      expect(((await handle.result()) as MailboxState).status).toBe('stopped');
      expect((await handle.describe()).searchAttributes.GmailSyncStatus).toEqual(['stopped']);
    });
  });

  it('stops while a sync runs', async () => {
    const run = await newMailboxRun(world);
    await run.worker.runUntil(async () => {
      const handle = await startRun(world, run);
      world.sandbox.addFault({ method: 'history.list', emailAddress: run.emailAddress, latencyMs: 2000, count: 1 });
      const message = world.sandbox.deliverMessage(run.emailAddress);
      await handle.signal(notifySignal, { historyId: message.historyId });
      // A local activity keeps the workflow task open, so wait on the sandbox, not on a query.
      while (listCalls(run.emailAddress) === 0) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }

      const final = await handle.executeUpdate(stopUpdate);

      expect(final.status).toBe('stopped');
      expect(gmailCalls(world, run.emailAddress).stop).toBe(1);
      expect(((await handle.result()) as MailboxState).status).toBe('stopped');
    });
  });

  it('stops and completes when users.stop fails', async () => {
    const run = await newMailboxRun(world);
    await run.worker.runUntil(async () => {
      const handle = await startRun(world, run);
      world.sandbox.updateMailbox(run.emailAddress, { invalidGrant: true, rejectAccessTokens: true });
      const final = await handle.executeUpdate(stopUpdate);

      expect(final.status).toBe('stopped');
      expect(final.lastError?.message).toMatch(/users\.stop failed/);
      expect(((await handle.result()) as MailboxState).status).toBe('stopped');
    });
  });

  it('reaches the same workflow through an alias', async () => {
    const run = await newMailboxRun(world);
    const alias = `Alias.${run.emailAddress.toUpperCase()}`;
    world.sandbox.createMailbox({ emailAddress: run.emailAddress, aliases: [alias.toLowerCase()] });
    const provider = createSandboxGmailProvider(world.sandbox.url);
    await run.worker.runUntil(async () => {
      const canonical = await resolveMailboxAddress(provider, run.emailAddress, { provider: 'sandbox' });
      const first = await startMailbox(world.env.client, run.taskQueue, { ...run.input, emailAddress: canonical });
      const resolved = await resolveMailboxAddress(provider, alias, { provider: 'sandbox' });
      const second = await startMailbox(world.env.client, run.taskQueue, { ...run.input, emailAddress: resolved });

      expect(resolved).toBe(run.emailAddress);
      expect(first.started).toBe(true);
      expect(second.started).toBe(false);
      expect(second.workflowId).toBe(mailboxWorkflowId(run.emailAddress));
      await world.env.client.workflow.getHandle(first.workflowId).executeUpdate(stopUpdate);
    });
  });

  it('backfills recent messages at start', async () => {
    const run = await newMailboxRun(world, { backfillDays: 1 });
    await alignSandboxClock(world);
    world.sandbox.createMailbox({ emailAddress: run.emailAddress });
    const earlier = [world.sandbox.deliverMessage(run.emailAddress), world.sandbox.deliverMessage(run.emailAddress)];
    await run.worker.runUntil(async () => {
      const handle = await startRun(world, run);
      const state = await waitForState(handle, (current) => current.counters.fullResyncs === 1);

      expect(state.historyId).toBe(world.sandbox.getMailbox(run.emailAddress).historyId);
      expect(run.delivery.messageIds(run.emailAddress).sort()).toEqual(earlier.map((message) => message.id).sort());
      await handle.executeUpdate(stopUpdate);
    });
  });

  it('answers syncNow and rejects an invalid resync', async () => {
    const run = await newMailboxRun(world);
    await run.worker.runUntil(async () => {
      const handle = await startRun(world, run);
      const cursor = (await waitForState(handle, () => true)).historyId!;
      const message = world.sandbox.deliverMessage(run.emailAddress);

      const summary = await handle.executeUpdate(syncNowUpdate);
      expect(summary.historyId).toBe(message.historyId);
      expect(summary.counts.delivered).toBe(1);

      await expect(handle.executeUpdate(resyncUpdate, { args: [{ startHistoryId: '12abc' }] })).rejects.toThrow(WorkflowUpdateFailedError);
      const again = await handle.executeUpdate(resyncUpdate, { args: [{ startHistoryId: cursor }] });
      expect(again.historyId).toBe(message.historyId);
      expect(run.delivery.deliveryIds(run.emailAddress)).toEqual([`${run.emailAddress}/${message.id}`]);
      await handle.executeUpdate(stopUpdate);
    });
  });
});
