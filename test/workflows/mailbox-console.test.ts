import type { WorkflowHandle } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { temporal } from '@temporalio/proto';

import { syncNowUpdate } from '../../workflows/mailbox/messages';
import { createMailboxWorld, destroyMailboxWorld, newMailboxRun, startRun, type MailboxRun, type MailboxWorld } from './mailbox-harness';

const EventType = temporal.api.enums.v1.EventType;

interface SummarizedEvent {
  eventType: string;
  summary: string;
}

/** Returns the events of the workflow's history that carry a summary in their user metadata, decoded. */
async function summarizedEvents(handle: WorkflowHandle): Promise<SummarizedEvent[]> {
  const history = await handle.fetchHistory();
  return (history.events ?? [])
    .filter((event) => event.userMetadata?.summary)
    .map((event) => ({
      eventType: EventType[event.eventType ?? 0],
      summary: defaultPayloadConverter.fromPayload<string>(event.userMetadata!.summary!),
    }));
}

/** Reads the current details through the built-in query that the Temporal UI uses. */
async function currentDetails(handle: WorkflowHandle): Promise<string> {
  const metadata = await handle.query<{ currentDetails?: string }>('__temporal_workflow_metadata');
  return metadata.currentDetails ?? '';
}

describe('mailboxWorkflow in the Temporal UI', () => {
  let world: MailboxWorld;
  let run: MailboxRun;
  let handle: WorkflowHandle;
  let running: Promise<void>;

  beforeAll(async () => {
    world = await createMailboxWorld('dev-server');
    run = await newMailboxRun(world);
    running = run.worker.run();
    handle = await startRun(world, run);
  }, 120_000);

  afterAll(async () => {
    run?.worker.shutdown();
    await running;
    await destroyMailboxWorld(world);
  });

  it('names the quiet-period timer', async () => {
    const events = await summarizedEvents(handle);

    expect(events).toContainEqual({ eventType: 'EVENT_TYPE_TIMER_STARTED', summary: 'quiet-period check after 10 min without a push' });
  });

  it('summarizes the first users.watch', async () => {
    const events = await summarizedEvents(handle);

    expect(events).toContainEqual({ eventType: 'EVENT_TYPE_MARKER_RECORDED', summary: 'users.watch: first watch' });
  });

  it('summarizes a large sync in its activity', async () => {
    const cursor = (await handle.query<{ historyId: string }>('state')).historyId;
    for (let index = 0; index < 12; index += 1) {
      world.sandbox.deliverMessage(run.emailAddress);
    }

    await handle.executeUpdate(syncNowUpdate);

    const events = await summarizedEvents(handle);
    expect(events).toContainEqual({ eventType: 'EVENT_TYPE_MARKER_RECORDED', summary: `history.list from ${cursor} (requested sync)` });
    expect(events).toContainEqual({
      eventType: 'EVENT_TYPE_ACTIVITY_TASK_SCHEDULED',
      summary: `history.list from ${cursor}, rest of the batch (requested sync)`,
    });
  });

  it('shows status, cursor and next timer in its current details', async () => {
    const state = await handle.query<{ historyId: string; lastSyncAt: string | null }>('state');

    const details = await currentDetails(handle);

    expect(details).toContain('- status: watching');
    expect(details).toContain(`- historyId: ${state.historyId}`);
    expect(details).toContain(`- last sync: ${state.lastSyncAt}`);
    expect(details).toMatch(/- next timer: quiet-period check after \d+ min without a push at \d{4}-/);
    expect(details).toContain('messagesDelivered 12');
    expect(details).not.toContain('- running:');
  });
});
