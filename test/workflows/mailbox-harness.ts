import { randomUUID } from 'node:crypto';

import type { WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';

import { createActivities, RecordingDelivery } from '../../activities';
import { createSandboxGmailProvider } from '../../src/gmail';
import { silentSdkLogger } from '../../src/logger';
import { startSandbox, type Sandbox } from '../../src/sandbox';
import { startMailbox } from '../../src/temporal/mailbox-client';
import { stateQuery } from '../../workflows/mailbox/messages';
import type { MailboxState, MailboxWorkflowInput } from '../../workflows/mailbox/types';
import { createDevServerEnv, createTimeSkippingEnv } from '../helpers/temporal';

/** The world of a mailbox workflow test file: one time-skipping server, one Gmail sandbox, one workflow bundle. */
export interface MailboxWorld {
  env: TestWorkflowEnvironment;
  sandbox: Sandbox;
  bundle: WorkflowBundleWithSourceMap;
}

/** Starts the world on the time-skipping server, or on a real dev server with `kind: 'dev-server'`. */
export async function createMailboxWorld(kind: 'time-skipping' | 'dev-server' = 'time-skipping'): Promise<MailboxWorld> {
  const [env, sandbox, bundle] = await Promise.all([
    kind === 'time-skipping' ? createTimeSkippingEnv() : createDevServerEnv(),
    startSandbox({ port: 0 }),
    bundleWorkflowCode({ workflowsPath: require.resolve('../../workflows'), logger: silentSdkLogger }),
  ]);
  return { env, sandbox, bundle };
}

export async function destroyMailboxWorld(world: MailboxWorld | undefined): Promise<void> {
  await world?.sandbox.stop();
  await world?.env.teardown();
}

/** One test's mailbox: a fresh address, task queue and delivery. */
export interface MailboxRun {
  emailAddress: string;
  taskQueue: string;
  topicName: string;
  delivery: RecordingDelivery;
  worker: Worker;
  input: MailboxWorkflowInput;
}

export async function newMailboxRun(world: MailboxWorld, overrides: Partial<MailboxWorkflowInput> = {}): Promise<MailboxRun> {
  const id = randomUUID().slice(0, 8);
  const emailAddress = overrides.emailAddress ?? `user-${id}@example.com`;
  const taskQueue = `mailbox-${id}`;
  const topicName = `projects/gmail-sync-test/topics/gmail-${id}`;
  const delivery = new RecordingDelivery();
  const worker = await Worker.create({
    connection: world.env.nativeConnection,
    taskQueue,
    workflowBundle: world.bundle,
    activities: createActivities({ gmail: createSandboxGmailProvider(world.sandbox.url), delivery }),
  });
  const input: MailboxWorkflowInput = {
    emailAddress,
    watch: { topicName },
    credential: { provider: 'sandbox' },
    ...overrides,
  };
  return { emailAddress, taskQueue, topicName, delivery, worker, input };
}

export async function startRun(world: MailboxWorld, run: MailboxRun): Promise<WorkflowHandle> {
  await startMailbox(world.env.client, run.taskQueue, run.input);
  const handle = world.env.client.workflow.getHandle(`gmail-mailbox/${run.emailAddress}`);
  await waitForState(handle, (state) => state.historyId !== null || state.status !== 'watching');
  return handle;
}

/**
 * Queries the mailbox until `predicate` holds, because local activities run
 * in real time after a signal or a time skip. Fails with the last state
 * after 20 seconds.
 */
export async function waitForState(handle: WorkflowHandle, predicate: (state: MailboxState) => boolean): Promise<MailboxState> {
  const deadline = Date.now() + 20_000;
  let state: MailboxState | undefined;
  for (;;) {
    try {
      state = await handle.query(stateQuery);
      if (predicate(state)) {
        return state;
      }
    } catch (error) {
      if (Date.now() > deadline) {
        throw error;
      }
    }
    if (Date.now() > deadline) {
      throw new Error(`mailbox state never matched; last state: ${JSON.stringify(state, null, 2)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * Skips Temporal time and moves the sandbox clock by the same amount, so that
 * watch expirations (sandbox time) and the workflow's timers (Temporal time)
 * stay on one clock, as Gmail's and Temporal's do in production.
 */
export async function skipTime(world: MailboxWorld, ms: number): Promise<void> {
  world.sandbox.advanceClock(ms);
  await world.env.sleep(ms);
}

/**
 * Moves the sandbox clock up to Temporal's time when it lags behind, for tests
 * that compare message dates with workflow time after earlier tests skipped it.
 */
export async function alignSandboxClock(world: MailboxWorld): Promise<void> {
  const lag = (await world.env.currentTimeMs()) - world.sandbox.getClock().now;
  if (lag > 0) {
    world.sandbox.advanceClock(lag);
  }
}

/** Sandbox call counts of one mailbox, by Gmail method. */
export function gmailCalls(world: MailboxWorld, emailAddress: string): Record<string, number> {
  return world.sandbox.getCounters(emailAddress).calls as Record<string, number>;
}
