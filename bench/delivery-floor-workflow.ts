/**
 * The latency floor of bench/delivery-costs.ts: a workflow that runs one
 * activity per signal, and the activity makes one Gmail call. It runs until
 * the benchmark terminates it.
 */
import { condition, defineSignal, proxyActivities, proxyLocalActivities, setHandler } from '@temporalio/workflow';

export interface FloorFetch {
  /** Key under which the benchmark records when the activity finished. */
  sampleId: string;
  /** Gmail message to get. */
  messageId: string;
}

export interface FloorActivities {
  fetchMessage(request: FloorFetch): Promise<void>;
}

/** `local` runs the activity as a local activity, as mailboxWorkflow's quick sync does; `regular` through an activity task. */
export type FloorActivityKind = 'local' | 'regular';

export const floorFetchSignal = defineSignal<[FloorFetch]>('fetch');

const local = proxyLocalActivities<FloorActivities>({ startToCloseTimeout: '1 minute' });
const regular = proxyActivities<FloorActivities>({ startToCloseTimeout: '1 minute' });

export async function deliveryFloorWorkflow(kind: FloorActivityKind): Promise<void> {
  const pending: FloorFetch[] = [];
  setHandler(floorFetchSignal, (request) => {
    pending.push(request);
  });
  const activities = kind === 'local' ? local : regular;
  for (;;) {
    await condition(() => pending.length > 0);
    await activities.fetchMessage(pending.shift()!);
  }
}
