/**
 * Small workflows that exercise the test servers themselves. They are not
 * product code.
 */
import { condition, defineQuery, defineSignal, setHandler, sleep } from '@temporalio/workflow';
import type { Duration } from '@temporalio/common';

export const addSignal = defineSignal<[number]>('add');
export const finishSignal = defineSignal('finish');
export const totalQuery = defineQuery<number>('total');

/** Sleeps for the given duration and returns how much workflow time passed, in milliseconds. */
export async function sleeperWorkflow(duration: Duration): Promise<number> {
  const started = Date.now();
  await sleep(duration);
  return Date.now() - started;
}

/** Adds the numbers it is signalled, returns the sum from the `total` query, and completes on `finish`. */
export async function counterWorkflow(): Promise<number> {
  let total = 0;
  let finished = false;
  setHandler(addSignal, (amount) => {
    total += amount;
  });
  setHandler(totalQuery, () => total);
  setHandler(finishSignal, () => {
    finished = true;
  });

  await condition(() => finished);
  return total;
}

/** Returns its input, so a test can look for the input in the workflow's history. */
export async function echoWorkflow(input: Record<string, string>): Promise<Record<string, string>> {
  await sleep(1);
  return input;
}
