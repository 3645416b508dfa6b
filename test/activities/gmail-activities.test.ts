import { MockActivityEnvironment } from '@temporalio/testing';

import { createActivities, RecordingDelivery, type Delivery, type MailboxChange } from '../../activities';
import { createSandboxGmailProvider, type GmailProvider } from '../../src/gmail';
import { startSandbox, type Sandbox } from '../../src/sandbox';
import type {
  FullResyncInput,
  MailboxActivities,
  MailboxRef,
  ResolveMailboxResult,
  SyncHistoryInput,
  WatchMailboxInput,
  WatchMailboxResult,
} from '../../workflows/mailbox/activity-types';
import type { CredentialRef, SyncSummary, WatchOptions } from '../../workflows/mailbox/types';

const SANDBOX_CREDENTIAL: CredentialRef = { provider: 'sandbox' };
const WATCH: WatchOptions = { topicName: 'projects/gmail-sync-test/topics/activities' };

describe('Gmail activities', () => {
  let sandbox: Sandbox;
  let provider: GmailProvider;
  let counter = 0;
  const newAddress = (): string => `activities-${(counter += 1)}@example.com`;

  beforeAll(async () => {
    sandbox = await startSandbox({ port: 0 });
    provider = createSandboxGmailProvider(sandbox.url);
  });

  afterAll(async () => {
    await sandbox.stop();
  });

  function activitiesWith(delivery: Delivery): MailboxActivities {
    return createActivities({ gmail: provider, delivery });
  }

  function syncHistory(delivery: Delivery, input: SyncHistoryInput, environment = new MockActivityEnvironment()): Promise<SyncSummary> {
    return environment.run((request: SyncHistoryInput) => activitiesWith(delivery).syncHistory(request), input);
  }

  function fullResync(delivery: Delivery, input: FullResyncInput): Promise<SyncSummary> {
    return new MockActivityEnvironment().run((request: FullResyncInput) => activitiesWith(delivery).fullResync(request), input);
  }

  /** Creates a mailbox and returns its address and starting historyId. */
  function newMailbox(): { emailAddress: string; start: string } {
    const emailAddress = newAddress();
    return { emailAddress, start: sandbox.createMailbox({ emailAddress }).historyId };
  }

  it('syncHistory pages to the end', async () => {
    const { emailAddress, start } = newMailbox();
    const messages = Array.from({ length: 520 }, () => sandbox.deliverMessage(emailAddress));
    const delivery = new RecordingDelivery();

    const summary = await syncHistory(delivery, {
      emailAddress,
      credential: SANDBOX_CREDENTIAL,
      startHistoryId: start,
      watch: WATCH,
    });

    expect(summary.historyId).toBe(sandbox.getMailbox(emailAddress).historyId);
    expect(summary.morePending).toBe(false);
    expect(summary.counts.pages).toBeGreaterThanOrEqual(2);
    expect(summary.counts.delivered).toBe(520);
    expect(delivery.messageIds(emailAddress).sort()).toEqual(messages.map((message) => message.id).sort());
  });

  it('syncHistory stops at maxPages with the old cursor', async () => {
    const { emailAddress, start } = newMailbox();
    Array.from({ length: 520 }, () => sandbox.deliverMessage(emailAddress));

    const summary = await syncHistory(new RecordingDelivery(), {
      emailAddress,
      credential: SANDBOX_CREDENTIAL,
      startHistoryId: start,
      watch: WATCH,
      maxPages: 1,
    });

    expect(summary.morePending).toBe(true);
    expect(summary.historyId).toBe(start);
  });

  it('syncHistory resumes after maxPages', async () => {
    const { emailAddress, start } = newMailbox();
    Array.from({ length: 520 }, () => sandbox.deliverMessage(emailAddress));
    const input = { emailAddress, credential: SANDBOX_CREDENTIAL, startHistoryId: start, watch: WATCH };
    const delivery = new RecordingDelivery();

    const first = await syncHistory(delivery, { ...input, maxPages: 1 });
    expect(first.resume).toMatchObject({ startHistoryId: start, finishedInPage: 0 });
    expect(first.resume?.pageToken).toEqual(expect.any(String));
    const rest = await syncHistory(delivery, { ...input, resume: first.resume });

    expect(rest.morePending).toBe(false);
    expect(rest.historyId).toBe(sandbox.getMailbox(emailAddress).historyId);
    expect(delivery.delivered).toHaveLength(520);
    expect(delivery.messageIds(emailAddress)).toHaveLength(520);
    expect(rest.counts).toMatchObject({ delivered: 520, records: 520 });
  });

  it('syncHistory stops mid-page at maxChanges', async () => {
    const { emailAddress, start } = newMailbox();
    const messages = Array.from({ length: 30 }, () => sandbox.deliverMessage(emailAddress));
    const input = { emailAddress, credential: SANDBOX_CREDENTIAL, startHistoryId: start, watch: WATCH };
    const delivery = new RecordingDelivery();

    const first = await syncHistory(delivery, { ...input, maxPages: 1, maxChanges: 10 });
    expect(first).toMatchObject({ historyId: start, morePending: true, counts: { delivered: 10 } });
    expect(first.resume).toMatchObject({ startHistoryId: start, finishedInPage: 10 });
    expect(delivery.delivered).toHaveLength(10);

    const rest = await syncHistory(delivery, { ...input, resume: first.resume });
    expect(rest.morePending).toBe(false);
    expect(rest.historyId).toBe(sandbox.getMailbox(emailAddress).historyId);
    expect(delivery.delivered).toHaveLength(30);
    expect(delivery.messageIds(emailAddress).sort()).toEqual(messages.map((message) => message.id).sort());
    expect(rest.counts).toMatchObject({ delivered: 30, records: 30, pages: 1 });
  });

  it('a resume from another cursor is ignored', async () => {
    const { emailAddress, start } = newMailbox();
    Array.from({ length: 3 }, () => sandbox.deliverMessage(emailAddress));
    const delivery = new RecordingDelivery();
    const stale = { startHistoryId: '1', finishedInPage: 2, counts: { delivered: 2 } };

    const summary = await syncHistory(delivery, { emailAddress, credential: SANDBOX_CREDENTIAL, startHistoryId: start, watch: WATCH, resume: stale });

    expect(summary.counts.delivered).toBe(3);
    expect(delivery.delivered).toHaveLength(3);
  });

  it('syncHistory resumes from its heartbeat', async () => {
    const { emailAddress, start } = newMailbox();
    Array.from({ length: 520 }, () => sandbox.deliverMessage(emailAddress));
    const input = { emailAddress, credential: SANDBOX_CREDENTIAL, startHistoryId: start, watch: WATCH };

    // The first attempt fails when history.list answers 500 for the second page.
    let events = 0;
    const counting: Delivery = {
      deliver: () => {
        if (++events === 500) {
          sandbox.addFault({ method: 'history.list', emailAddress, status: 500, count: 1 });
        }
        return Promise.resolve();
      },
    };
    const firstAttempt = new MockActivityEnvironment();
    let lastHeartbeat: unknown;
    firstAttempt.on('heartbeat', (details: unknown) => {
      lastHeartbeat = details;
    });
    await expect(syncHistory(counting, input, firstAttempt)).rejects.toThrow(/history\.list/);
    const callsAfterFirst = sandbox.getCounters(emailAddress).calls['history.list'] ?? 0;

    const delivery = new RecordingDelivery();
    const summary = await syncHistory(delivery, input, new MockActivityEnvironment({ heartbeatDetails: lastHeartbeat, attempt: 2 }));

    expect(sandbox.getCounters(emailAddress).calls['history.list']).toBe(callsAfterFirst + 1);
    expect(summary.counts.delivered).toBe(520);
    expect(delivery.messageIds(emailAddress)).toHaveLength(20);
  });

  it('syncHistory leaves out SPAM, TRASH, DRAFT and other labels', async () => {
    const { emailAddress, start } = newMailbox();
    const inbox = sandbox.deliverMessage(emailAddress, { labelIds: ['INBOX', 'UNREAD'] });
    sandbox.deliverMessage(emailAddress, { labelIds: ['SPAM'] });
    sandbox.deliverMessage(emailAddress, { labelIds: ['TRASH'] });
    sandbox.deliverMessage(emailAddress, { labelIds: ['DRAFT'] });
    sandbox.deliverMessage(emailAddress, { labelIds: ['SENT'] });
    const delivery = new RecordingDelivery();

    const summary = await syncHistory(delivery, {
      emailAddress,
      credential: SANDBOX_CREDENTIAL,
      startHistoryId: start,
      watch: WATCH,
    });

    expect(delivery.messageIds(emailAddress)).toEqual([inbox.id]);
    expect(summary.counts.skipped).toBe(4);
  });

  it('syncHistory follows watch labelIds', async () => {
    const { emailAddress, start } = newMailbox();
    sandbox.deliverMessage(emailAddress, { labelIds: ['INBOX'] });
    const sent = sandbox.deliverMessage(emailAddress, { labelIds: ['SENT'] });
    const spam = sandbox.deliverMessage(emailAddress, { labelIds: ['SPAM'] });
    const delivery = new RecordingDelivery();

    await syncHistory(delivery, {
      emailAddress,
      credential: SANDBOX_CREDENTIAL,
      startHistoryId: start,
      watch: { ...WATCH, labelIds: ['SENT', 'SPAM'] },
    });

    expect(delivery.messageIds(emailAddress).sort()).toEqual([sent.id, spam.id].sort());
  });

  it('syncHistory gives label events per-record delivery ids', async () => {
    const { emailAddress, start } = newMailbox();
    const message = sandbox.deliverMessage(emailAddress);
    sandbox.modifyLabels(emailAddress, message.id, { addLabelIds: ['STARRED'] });
    sandbox.modifyLabels(emailAddress, message.id, { removeLabelIds: ['STARRED'] });
    sandbox.modifyLabels(emailAddress, message.id, { addLabelIds: ['STARRED'] });
    const delivery = new RecordingDelivery();

    await syncHistory(delivery, {
      emailAddress,
      credential: SANDBOX_CREDENTIAL,
      startHistoryId: start,
      watch: WATCH,
      delivery: { includeLabelEvents: true },
    });

    const labelEvents = delivery.delivered.filter((change: MailboxChange) => change.kind !== 'messageAdded');
    expect(labelEvents.map((change) => change.kind)).toEqual(['labelsAdded', 'labelsRemoved', 'labelsAdded']);
    expect(new Set(labelEvents.map((change) => change.deliveryId)).size).toBe(3);
    expect(delivery.deliveryIds(emailAddress)).toContain(`${emailAddress}/${message.id}`);
  });

  it('fullResync returns getProfile historyId and bounds messages', async () => {
    const { emailAddress } = newMailbox();
    const messages = Array.from({ length: 5 }, () => sandbox.deliverMessage(emailAddress));
    const delivery = new RecordingDelivery();
    const input = { emailAddress, credential: SANDBOX_CREDENTIAL, watch: WATCH, sinceMs: Date.now() };

    const bounded = await fullResync(delivery, { ...input, maxMessages: 3 });
    expect(bounded.historyId).toBe(sandbox.getMailbox(emailAddress).historyId);
    expect(bounded.counts.delivered).toBe(3);
    expect(bounded.morePending).toBe(true);

    const complete = await fullResync(delivery, input);
    expect(complete.morePending).toBe(false);
    expect(delivery.messageIds(emailAddress).sort()).toEqual(messages.map((message) => message.id).sort());
    expect(delivery.deliveryIds(emailAddress)).toHaveLength(5);
  });

  it('watchMailbox sends labelFilterBehavior', async () => {
    const { emailAddress } = newMailbox();
    const result: WatchMailboxResult = await new MockActivityEnvironment().run((request: WatchMailboxInput) => activitiesWith(new RecordingDelivery()).watchMailbox(request), {
      emailAddress,
      credential: SANDBOX_CREDENTIAL,
      watch: { ...WATCH, labelIds: ['SPAM'], labelFilterBehavior: 'exclude' as const },
    });

    const watch = sandbox.getMailbox(emailAddress).watch;
    expect(watch?.labelFilterBehavior).toBe('exclude');
    expect(watch?.labelIds).toEqual(['SPAM']);
    expect(result.expiration).toBe(watch?.expiration);
    expect(result.historyId).toBe(sandbox.getMailbox(emailAddress).historyId);
  });

  it('resolveMailbox lower-cases the address of an alias', async () => {
    const emailAddress = newAddress();
    sandbox.createMailbox({ emailAddress, aliases: [`alias.${emailAddress}`] });

    const profile: ResolveMailboxResult = await new MockActivityEnvironment().run((request: MailboxRef) => activitiesWith(new RecordingDelivery()).resolveMailbox(request), {
      emailAddress: `ALIAS.${emailAddress}`.toUpperCase(),
      credential: SANDBOX_CREDENTIAL,
    });

    expect(profile.emailAddress).toBe(emailAddress);
  });
});
