import type { gmail_v1 } from 'googleapis';

import { startSandbox, type Sandbox } from '../../src/sandbox';
import error403Topic from '../fixtures/gmail/error-403-watch-topic.json';
import error404 from '../fixtures/gmail/error-404-history.json';
import error429 from '../fixtures/gmail/error-429.json';
import profileFixture from '../fixtures/gmail/get-profile-response.json';
import historyEmpty from '../fixtures/gmail/history-list-empty.json';
import historyPage1 from '../fixtures/gmail/history-list-page-1.json';
import historyPage2 from '../fixtures/gmail/history-list-page-2.json';
import watchFixture from '../fixtures/gmail/watch-response.json';
import { gmailClient, gmailFailure, shapeOf } from './helpers';

const TOPIC = 'projects/sandbox-test/topics/gmail';

describe('Gmail sandbox REST through googleapis', () => {
  let sandbox: Sandbox;
  let gmail: gmail_v1.Gmail;
  let address: string;
  let counter = 0;

  beforeAll(async () => {
    sandbox = await startSandbox();
  });

  afterAll(async () => {
    await sandbox.stop();
  });

  beforeEach(() => {
    counter += 1;
    address = `user${counter}@example.com`;
    sandbox.createMailbox({ emailAddress: address, historyId: '4218300', aliases: [`alias${counter}@example.com`] });
    gmail = gmailClient(sandbox, address);
  });

  it('builds URLs under rootUrl + gmail/v1/users', async () => {
    const response = await gmail.users.getProfile({ userId: 'me' });

    expect(response.config.url?.toString()).toBe(`${sandbox.url}/gmail/v1/users/me/profile`);
  });

  it('getProfile matches the fixture shape and resolves aliases', async () => {
    sandbox.deliverMessage(address);
    const me = await gmail.users.getProfile({ userId: 'me' });
    const alias = await gmail.users.getProfile({ userId: `Alias${counter}@example.com` });

    expect(shapeOf(me.data)).toEqual(shapeOf(profileFixture));
    expect(me.data.emailAddress).toBe(address);
    expect(me.data.messagesTotal).toBe(1);
    expect(alias.data.emailAddress).toBe(address);
  });

  it('getProfile rejects another mailbox with 403', async () => {
    sandbox.createMailbox({ emailAddress: `other${counter}@example.com` });
    const failure = await gmailFailure(gmail.users.getProfile({ userId: `other${counter}@example.com` }));

    expect(failure.status).toBe(403);
  });

  it('watch returns the fixture shape, seven days ahead', async () => {
    const clockBefore = sandbox.getClock().now;
    const response = await gmail.users.watch({ userId: 'me', requestBody: { topicName: TOPIC, labelIds: ['INBOX'], labelFilterBehavior: 'include' } });

    expect(shapeOf(response.data)).toEqual(shapeOf(watchFixture));
    expect(response.data.historyId).toBe('4218300');
    const expiration = Number(response.data.expiration);
    expect(expiration - clockBefore).toBeGreaterThanOrEqual(7 * 86_400_000);
    expect(expiration - sandbox.getClock().now).toBeLessThanOrEqual(7 * 86_400_000);
  });

  it('watch answers 403 for a topic without publish rights', async () => {
    sandbox.setTopicPublishRights('projects/sandbox-test/topics/locked', false);
    const failure = await gmailFailure(gmail.users.watch({ userId: 'me', requestBody: { topicName: 'projects/sandbox-test/topics/locked' } }));

    expect(failure.status).toBe(403);
    expect(failure.body).toEqual(error403Topic);
  });

  it.each([
    [{ topicName: 'gmail-topic' }, 'topicName'],
    [{}, 'topicName'],
    [{ topicName: TOPIC, labelFilterBehavior: 'sometimes' }, 'labelFilterBehavior'],
    [{ topicName: TOPIC, labelFilterAction: 'sometimes' }, 'labelFilterAction'],
    [{ topicName: TOPIC, labelIds: ['NOT_A_LABEL'] }, 'labelIds'],
  ])('watch rejects %j naming %s', async (requestBody, field) => {
    const failure = await gmailFailure(gmail.users.watch({ userId: 'me', requestBody: requestBody as gmail_v1.Schema$WatchRequest }));

    expect(failure.status).toBe(400);
    expect(JSON.stringify(failure.body)).toContain(field);
    expect(failure.body).toMatchObject({ error: { code: 400, status: 'INVALID_ARGUMENT' } });
  });

  it('stop answers 204 and ends the watch', async () => {
    await gmail.users.watch({ userId: 'me', requestBody: { topicName: TOPIC } });
    const response = await gmail.users.stop({ userId: 'me' });

    expect(response.status).toBe(204);
    expect(sandbox.getMailbox(address).watch).toBeNull();
  });

  it('history.list records match the fixture shapes', async () => {
    const delivered = sandbox.deliverMessage(address);
    sandbox.modifyLabels(address, delivered.id, { removeLabelIds: ['UNREAD'] });
    sandbox.modifyLabels(address, delivered.id, { addLabelIds: ['STARRED'] });
    const draft = sandbox.deliverMessage(address, { labelIds: ['DRAFT'] });
    sandbox.deleteMessage(address, draft.id);

    const response = await gmail.users.history.list({ userId: 'me', startHistoryId: '4218300' });
    const history = response.data.history!;

    expect(history.map((record) => Object.keys(record).find((key) => key !== 'id' && key !== 'messages'))).toEqual([
      'messagesAdded', 'labelsRemoved', 'labelsAdded', 'messagesAdded', 'messagesDeleted',
    ]);
    expect(shapeOf(history[0])).toEqual(shapeOf(historyPage1.history[0]));
    expect(shapeOf(history[1])).toEqual(shapeOf(historyPage1.history[1]));
    expect(shapeOf(history[2])).toEqual(shapeOf(historyPage2.history[1]));
    expect(shapeOf(history[4])).toEqual(shapeOf(historyPage2.history[2]));
    expect(history[1].labelsRemoved![0].labelIds).toEqual(['UNREAD']);
    expect(response.data.historyId).toBe(sandbox.getMailbox(address).historyId);
    expect(response.data.nextPageToken).toBeUndefined();
  });

  it('history.list ids increase with gaps', async () => {
    for (let i = 0; i < 30; i += 1) {
      sandbox.deliverMessage(address);
    }
    const response = await gmail.users.history.list({ userId: 'me', startHistoryId: '4218300', maxResults: 500 });
    const ids = response.data.history!.map((record) => BigInt(record.id!));
    const steps = ids.slice(1).map((id, index) => id - ids[index]);

    expect(steps.every((step) => step > 0n)).toBe(true);
    expect(steps.some((step) => step > 1n)).toBe(true);
  });

  it('history.list leaves history out when empty', async () => {
    const response = await gmail.users.history.list({ userId: 'me', startHistoryId: '4218300' });

    expect(response.data).toEqual({ historyId: '4218300' });
    expect(shapeOf(response.data)).toEqual(shapeOf(historyEmpty));
  });

  it('history.list pages with maxResults and pageToken', async () => {
    const ids = Array.from({ length: 5 }, () => sandbox.deliverMessage(address).historyId);
    const pages: gmail_v1.Schema$ListHistoryResponse[] = [];
    let pageToken: string | undefined;
    do {
      const response = await gmail.users.history.list({ userId: 'me', startHistoryId: '4218300', maxResults: 2, pageToken });
      pages.push(response.data);
      pageToken = response.data.nextPageToken ?? undefined;
    } while (pageToken);

    expect(pages.map((page) => page.history!.length)).toEqual([2, 2, 1]);
    expect(pages.flatMap((page) => page.history!.map((record) => record.id))).toEqual(ids);
    expect(pages.every((page) => page.historyId === ids[4])).toBe(true);
    expect(pages[0].nextPageToken).toMatch(/^\d{20}$/);
  });

  it('history.list filters by historyTypes and labelId', async () => {
    const inbox = sandbox.deliverMessage(address);
    sandbox.deliverMessage(address, { labelIds: ['SPAM'] });
    sandbox.modifyLabels(address, inbox.id, { addLabelIds: ['STARRED'] });

    const added = await gmail.users.history.list({ userId: 'me', startHistoryId: '4218300', historyTypes: ['messageAdded'] });
    const spam = await gmail.users.history.list({ userId: 'me', startHistoryId: '4218300', labelId: 'SPAM' });

    expect(added.data.history!.map((record) => Boolean(record.messagesAdded))).toEqual([true, true]);
    expect(spam.data.history!).toHaveLength(1);
  });

  it('history.list keeps historyIds above 2^53 exact', async () => {
    const big = 'big@example.com';
    sandbox.createMailbox({ emailAddress: big, historyId: '18446744073709551000' });
    const delivered = sandbox.deliverMessage(big);
    const response = await gmailClient(sandbox, big).users.history.list({ userId: 'me', startHistoryId: '18446744073709551000' });

    expect(BigInt(delivered.historyId)).toBeGreaterThan(18446744073709551000n);
    expect(response.data.history![0].id).toBe(delivered.historyId);
    expect(response.data.historyId).toBe(delivered.historyId);
  });

  it('history.list answers 404 for an expired start id', async () => {
    sandbox.updateMailbox(address, { historyRetentionMs: 60_000 });
    sandbox.deliverMessage(address);
    sandbox.advanceClock(120_000);
    sandbox.deliverMessage(address);

    const failure = await gmailFailure(gmail.users.history.list({ userId: 'me', startHistoryId: '4218300' }));
    const fromRetained = await gmail.users.history.list({ userId: 'me', startHistoryId: sandbox.getMailbox(address).oldestValidStartId });

    expect(failure.status).toBe(404);
    expect(failure.body).toEqual(error404);
    expect(fromRetained.data.history).toHaveLength(1);
  });

  it('history.list answers 404 below the starting historyId', async () => {
    const failure = await gmailFailure(gmail.users.history.list({ userId: 'me', startHistoryId: '1' }));

    expect(failure.status).toBe(404);
  });

  it.each([
    [{}, 'startHistoryId'],
    [{ startHistoryId: 'abc' }, 'start_history_id'],
    [{ startHistoryId: '-5' }, 'start_history_id'],
    [{ startHistoryId: '18446744073709551616' }, 'start_history_id'],
    [{ startHistoryId: '1', historyTypes: ['messageMoved'] }, 'historyTypes'],
    [{ startHistoryId: '1', maxResults: 'many' }, 'max_results'],
    [{ startHistoryId: '1', pageToken: 'nope' }, 'pageToken'],
  ])('history.list rejects %j naming %s', async (params, field) => {
    const failure = await gmailFailure(gmail.users.history.list({ userId: 'me', ...(params as object) }));

    expect(failure.status).toBe(400);
    expect((failure.body as { error: { message: string } }).error.message).toContain(field);
  });

  it('history.list lags by the indexing delay', async () => {
    const first = sandbox.deliverMessage(address);
    sandbox.advanceClock(10_000);
    sandbox.updateMailbox(address, { historyIndexDelayMs: 5_000 });
    sandbox.deliverMessage(address);
    const lagging = await gmail.users.history.list({ userId: 'me', startHistoryId: '4218300' });
    sandbox.advanceClock(5_001);
    const caughtUp = await gmail.users.history.list({ userId: 'me', startHistoryId: '4218300' });

    expect(lagging.data.history!.map((record) => record.id)).toEqual([first.historyId]);
    expect(lagging.data.historyId).toBe(first.historyId);
    expect(caughtUp.data.history).toHaveLength(2);
  });

  it('messages.list pages newest first and filters by labelIds', async () => {
    const ids = Array.from({ length: 3 }, () => sandbox.deliverMessage(address).id);
    const starred = sandbox.deliverMessage(address, { labelIds: ['INBOX', 'STARRED'] }).id;
    sandbox.deliverMessage(address, { labelIds: ['TRASH'] });

    const first = await gmail.users.messages.list({ userId: 'me', maxResults: 2 });
    const second = await gmail.users.messages.list({ userId: 'me', maxResults: 2, pageToken: first.data.nextPageToken! });
    const filtered = await gmail.users.messages.list({ userId: 'me', labelIds: ['INBOX', 'STARRED'] });

    expect(first.data.messages!.map((message) => message.id)).toEqual([starred, ids[2]]);
    expect(second.data.messages!.map((message) => message.id)).toEqual([ids[1], ids[0]]);
    expect(second.data.nextPageToken).toBeUndefined();
    expect(filtered.data.messages).toEqual([{ id: starred, threadId: starred }]);
  });

  it('messages.list applies after: and before:', async () => {
    sandbox.freezeClock(true);
    const old = sandbox.deliverMessage(address).id;
    sandbox.advanceClock(10_000);
    const boundary = Math.floor(sandbox.getClock().now / 1000);
    sandbox.advanceClock(10_000);
    const recent = sandbox.deliverMessage(address).id;
    sandbox.freezeClock(false);

    const after = await gmail.users.messages.list({ userId: 'me', q: `after:${boundary}` });
    const before = await gmail.users.messages.list({ userId: 'me', q: `before:${boundary}` });
    const none = await gmail.users.messages.list({ userId: 'me', q: 'after:4102444800' });

    expect(after.data.messages!.map((message) => message.id)).toEqual([recent]);
    expect(before.data.messages!.map((message) => message.id)).toEqual([old]);
    expect(none.data).toEqual({ resultSizeEstimate: 0 });
  });

  it('messages.list rejects an unsupported q', async () => {
    const failure = await gmailFailure(gmail.users.messages.list({ userId: 'me', q: 'from:someone' }));

    expect(failure.status).toBe(400);
    expect(JSON.stringify(failure.body)).toContain('Invalid q');
  });

  it('messages.get serves minimal, metadata and full', async () => {
    const delivered = sandbox.deliverMessage(address, { from: 'Bob <bob@example.com>', subject: 'Hello' });

    const minimal = await gmail.users.messages.get({ userId: 'me', id: delivered.id, format: 'minimal' });
    const metadata = await gmail.users.messages.get({ userId: 'me', id: delivered.id, format: 'metadata', metadataHeaders: ['Subject', 'From'] });
    const full = await gmail.users.messages.get({ userId: 'me', id: delivered.id });

    expect(minimal.data).toMatchObject({ id: delivered.id, threadId: delivered.threadId, historyId: delivered.historyId, labelIds: ['UNREAD', 'CATEGORY_PERSONAL', 'INBOX'] });
    expect(typeof minimal.data.internalDate).toBe('string');
    expect(minimal.data.payload).toBeUndefined();
    expect(metadata.data.payload!.headers).toEqual([
      { name: 'From', value: 'Bob <bob@example.com>' },
      { name: 'Subject', value: 'Hello' },
    ]);
    expect(Buffer.from(full.data.payload!.body!.data!, 'base64url').toString()).toContain('Gmail sandbox');
  });

  it('messages.get answers 404 and 400 as Gmail does', async () => {
    const missing = await gmailFailure(gmail.users.messages.get({ userId: 'me', id: '19ac1f0e2b3d4a01' }));
    const malformed = await gmailFailure(gmail.users.messages.get({ userId: 'me', id: 'not-an-id!' }));
    const badFormat = await gmailFailure(gmail.users.messages.get({ userId: 'me', id: '19ac1f0e2b3d4a01', format: 'tiny' }));

    expect(missing.status).toBe(404);
    expect(malformed.status).toBe(400);
    expect(JSON.stringify(malformed.body)).toContain('Invalid id value');
    expect(badFormat.status).toBe(400);
    expect(JSON.stringify(badFormat.body)).toContain('format');
  });

  it('labels.list returns system and used user labels', async () => {
    sandbox.deliverMessage(address, { labelIds: ['INBOX', 'Label_7'] });
    const response = await gmail.users.labels.list({ userId: 'me' });
    const ids = response.data.labels!.map((label) => label.id);

    expect(ids).toEqual(expect.arrayContaining(['INBOX', 'SPAM', 'TRASH', 'DRAFT', 'Label_7']));
    expect(response.data.labels!.find((label) => label.id === 'INBOX')!.type).toBe('system');
    expect(response.data.labels!.find((label) => label.id === 'Label_7')!.type).toBe('user');
  });

  it('fault injection answers 429 with rateLimitExceeded', async () => {
    sandbox.addFault({ method: 'history.list', emailAddress: address, status: 429, count: 1, retryAfterSeconds: 7 });
    const failure = await gmailFailure(gmail.users.history.list({ userId: 'me', startHistoryId: '4218300' }));
    const next = await gmail.users.history.list({ userId: 'me', startHistoryId: '4218300' });

    expect(failure.status).toBe(429);
    expect(failure.body).toEqual(error429);
    expect(failure.headers['retry-after']).toBe('7');
    expect(next.status).toBe(200);
  });

  it('fault injection by rate fails every call at rate 1', async () => {
    sandbox.addFault({ method: 'labels.list', emailAddress: address, status: 503, rate: 1 });
    const statuses = [];
    for (let i = 0; i < 3; i += 1) {
      statuses.push((await gmailFailure(gmail.users.labels.list({ userId: 'me' }))).status);
    }
    sandbox.clearFaults();

    expect(statuses).toEqual([503, 503, 503]);
    expect((await gmail.users.labels.list({ userId: 'me' })).status).toBe(200);
  });

  it('counters count calls and quota units', async () => {
    await gmail.users.getProfile({ userId: 'me' });
    await gmail.users.history.list({ userId: 'me', startHistoryId: '4218300' });
    await gmail.users.history.list({ userId: 'me', startHistoryId: '4218300' });
    await gmail.users.watch({ userId: 'me', requestBody: { topicName: TOPIC } });
    await gmail.users.stop({ userId: 'me' });
    await gmail.users.messages.list({ userId: 'me' });
    await gmail.users.labels.list({ userId: 'me' });

    const counters = sandbox.getCounters(address);

    expect(counters.calls).toEqual({ getProfile: 1, 'history.list': 2, watch: 1, stop: 1, 'messages.list': 1, 'labels.list': 1 });
    expect(counters.quotaUnits).toBe(1 + 2 * 2 + 100 + 50 + 5 + 1);
    expect(counters.tokenRefreshes).toBe(1);
  });
});
