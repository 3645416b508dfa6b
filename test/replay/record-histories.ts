/**
 * Records mailboxWorkflow histories of the failure paths as replay fixtures:
 * watch forbidden then recovered, revoked credentials then reauthorized,
 * expired history with a full resync, updates, a failing users.stop, and
 * continue-as-new, and the timer and activity summaries of a large sync.
 * The happy-path fixtures come from the benchmark.
 *
 *   npx tsx test/replay/record-histories.ts [scenario ...]
 *
 * Without names it records every scenario. Name only new scenarios when
 * adding one, so that the histories recorded by earlier workflow versions
 * stay as they are and keep guarding against nondeterminism.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import type { WorkflowHandle } from '@temporalio/client';
import { DefaultLogger, Runtime } from '@temporalio/worker';

import { QUICK_SYNC_MAX_CHANGES } from '../../workflows/mailbox/activities';
import { notifySignal, reauthorizedSignal, resyncUpdate, stopUpdate, syncNowUpdate } from '../../workflows/mailbox/messages';
import {
  createMailboxWorld,
  destroyMailboxWorld,
  newMailboxRun,
  skipTime,
  startRun,
  waitForState,
  type MailboxRun,
  type MailboxWorld,
} from '../workflows/mailbox-harness';

const HISTORIES_DIR = path.join(__dirname, 'histories');
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

type Scenario = (world: MailboxWorld, run: MailboxRun, handle: WorkflowHandle) => Promise<void>;

const scenarios: Record<string, { prepare?: (world: MailboxWorld, run: MailboxRun) => void; play: Scenario }> = {
  'watch-forbidden': {
    prepare: (world, run) => world.sandbox.setTopicPublishRights(run.topicName, false),
    play: async (world, run, handle) => {
      await waitForState(handle, (state) => state.status === 'polling');
      world.sandbox.deliverMessage(run.emailAddress);
      await skipTime(world, 5 * MINUTE);
      world.sandbox.setTopicPublishRights(run.topicName, true);
      await skipTime(world, HOUR);
      await waitForState(handle, (state) => state.status === 'watching');
    },
  },
  'needs-reauth': {
    play: async (world, run, handle) => {
      world.sandbox.updateMailbox(run.emailAddress, { invalidGrant: true, rejectAccessTokens: true });
      const message = world.sandbox.deliverMessage(run.emailAddress);
      await handle.signal(notifySignal, { historyId: message.historyId });
      await waitForState(handle, (state) => state.status === 'needs-reauth');
      world.sandbox.updateMailbox(run.emailAddress, { invalidGrant: false, rejectAccessTokens: false });
      await handle.signal(reauthorizedSignal);
      await waitForState(handle, (state) => state.historyId === message.historyId);
    },
  },
  'full-resync': {
    play: async (world, run, handle) => {
      world.sandbox.deliverMessage(run.emailAddress);
      world.sandbox.updateMailbox(run.emailAddress, { historyRetentionMs: MINUTE });
      world.sandbox.advanceClock(HOUR);
      const message = world.sandbox.deliverMessage(run.emailAddress);
      await handle.signal(notifySignal, { historyId: message.historyId });
      await waitForState(handle, (state) => state.counters.fullResyncs === 1);
    },
  },
  updates: {
    play: async (world, run, handle) => {
      const cursor = (await waitForState(handle, () => true)).historyId!;
      world.sandbox.deliverMessage(run.emailAddress);
      await handle.executeUpdate(syncNowUpdate);
      await handle.executeUpdate(resyncUpdate, { args: [{ startHistoryId: cursor }] });
      await handle.executeUpdate(resyncUpdate, { args: [{}] });
    },
  },
  'stop-fails': {
    play: async (world, run) => {
      world.sandbox.updateMailbox(run.emailAddress, { invalidGrant: true, rejectAccessTokens: true });
      return Promise.resolve();
    },
  },
  summaries: {
    play: async (world, run, handle) => {
      // More messages than a quick sync delivers, so the heartbeating activity finishes the batch.
      let historyId = '';
      for (let index = 0; index <= QUICK_SYNC_MAX_CHANGES; index += 1) {
        historyId = world.sandbox.deliverMessage(run.emailAddress).historyId;
      }
      await handle.signal(notifySignal, { historyId });
      await waitForState(handle, (state) => state.historyId === historyId);
      // Past the quiet period: one quiet-period check runs.
      await skipTime(world, 11 * MINUTE);
      await waitForState(handle, (state) => state.counters.polls === 1);
    },
  },
  'continue-as-new': {
    prepare: (_world, run) => {
      run.input.maxHistoryEvents = 1;
    },
    play: async (world, run, handle) => {
      const message = world.sandbox.deliverMessage(run.emailAddress);
      await handle.signal(notifySignal, { historyId: message.historyId });
      // Queries to a continued run do not return on the test server, so wait on the delivery.
      for (let attempt = 0; attempt < 400 && run.delivery.messageIds(run.emailAddress).length === 0; attempt += 1) {
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    },
  },
};

async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  mkdirSync(HISTORIES_DIR, { recursive: true });
  const world = await createMailboxWorld();
  try {
    const names = process.argv.slice(2);
    const unknown = names.filter((name) => !(name in scenarios));
    if (unknown.length > 0) {
      throw new Error(`Unknown scenario ${unknown.join(', ')}; the scenarios are ${Object.keys(scenarios).join(', ')}.`);
    }
    const chosen = Object.entries(scenarios).filter(([name]) => names.length === 0 || names.includes(name));
    for (const [name, scenario] of chosen) {
      const run = await newMailboxRun(world);
      scenario.prepare?.(world, run);
      const firstRunId = await run.worker.runUntil(async () => {
        const handle = await startRun(world, run);
        const runId = (await handle.describe()).runId;
        await scenario.play(world, run, handle);
        if (name !== 'continue-as-new') {
          await handle.executeUpdate(stopUpdate);
        }
        return runId;
      });
      // The first run's history: for continue-as-new it ends in the continue-as-new event.
      const history = await world.env.client.workflow.getHandle(`gmail-mailbox/${run.emailAddress}`, firstRunId).fetchHistory();
      writeFileSync(path.join(HISTORIES_DIR, `${name}.json`), JSON.stringify(history, null, 1));
      process.stdout.write(`recorded ${name}: ${history.events?.length ?? 0} events\n`);
    }
  } finally {
    await destroyMailboxWorld(world);
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
