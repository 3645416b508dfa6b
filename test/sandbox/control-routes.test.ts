import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { startSandbox, type Sandbox } from '../../src/sandbox';
import { gmailClient } from './helpers';

async function call(sandbox: Sandbox, method: string, path: string, body?: unknown): Promise<{ status: number; body: unknown }> {
  // A string body is sent as it is, so tests can send malformed JSON.
  let payload: string | undefined;
  if (body !== undefined) {
    payload = typeof body === 'string' ? body : JSON.stringify(body);
  }
  const response = await fetch(`${sandbox.url}${path}`, {
    method,
    headers: payload === undefined ? {} : { 'content-type': 'application/json' },
    body: payload,
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined };
}

describe('Gmail sandbox control routes', () => {
  let sandbox: Sandbox;

  beforeAll(async () => {
    sandbox = await startSandbox();
  });

  afterAll(async () => {
    await sandbox.stop();
  });

  it('creates a mailbox with options', async () => {
    const created = await call(sandbox, 'POST', '/sandbox/mailboxes', {
      emailAddress: 'Carol@Example.com',
      historyId: '9007199254740993',
      aliases: ['c@example.com'],
      historyRetentionMs: 1000,
    });
    const profile = await gmailClient(sandbox, 'c@example.com').users.getProfile({ userId: 'c@example.com' });

    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ emailAddress: 'carol@example.com', historyId: '9007199254740993', aliases: ['c@example.com'] });
    expect(profile.data).toMatchObject({ emailAddress: 'carol@example.com', historyId: '9007199254740993' });
  });

  it('rejects a duplicate mailbox with 409', async () => {
    await call(sandbox, 'POST', '/sandbox/mailboxes', { emailAddress: 'dup@example.com' });
    const again = await call(sandbox, 'POST', '/sandbox/mailboxes', { emailAddress: 'dup@example.com' });

    expect(again.status).toBe(409);
  });

  it('delivers, modifies and deletes over HTTP', async () => {
    const delivered = await call(sandbox, 'POST', '/sandbox/mailboxes/dan@example.com/messages', { from: 'a@example.com', subject: 'Hi', labelIds: ['INBOX'] });
    const { id, historyId } = delivered.body as { id: string; threadId: string; historyId: string };
    const modified = await call(sandbox, 'POST', `/sandbox/mailboxes/dan@example.com/messages/${id}/modify`, { addLabelIds: ['STARRED'] });
    const deleted = await call(sandbox, 'DELETE', `/sandbox/mailboxes/dan@example.com/messages/${id}`);
    const history = await gmailClient(sandbox, 'dan@example.com').users.history.list({ userId: 'me', startHistoryId: '1000' });

    expect(delivered.status).toBe(201);
    expect(Object.keys(delivered.body as object).sort()).toEqual(['historyId', 'id', 'threadId']);
    expect((modified.body as { labelIds: string[] }).labelIds).toEqual(['INBOX', 'STARRED']);
    expect(deleted.status).toBe(200);
    expect(history.data.history!.map((record) => record.id)).toEqual([
      historyId,
      (modified.body as { historyId: string }).historyId,
      (deleted.body as { historyId: string }).historyId,
    ]);
  });

  it('delivers a default message without a body', async () => {
    const delivered = await call(sandbox, 'POST', '/sandbox/mailboxes/plain@example.com/messages');

    expect(delivered.status).toBe(201);
  });

  it.each([
    ['POST', '/sandbox/mailboxes', { emailAddress: 'not an address' }, 'emailAddress'],
    ['POST', '/sandbox/mailboxes', { emailAddress: 'e@example.com', historyId: '-1' }, 'historyId'],
    ['POST', '/sandbox/mailboxes', { emailAddress: 'e@example.com', colour: 'red' }, 'colour'],
    ['POST', '/sandbox/mailboxes/e@example.com/messages', { labelIds: 'INBOX' }, 'labelIds'],
    ['POST', '/sandbox/mailboxes/e@example.com/messages', { labelIds: ['NOPE'] }, 'NOPE'],
    ['POST', '/sandbox/mailboxes/e@example.com/messages', '{"subject":', 'JSON'],
    ['POST', '/sandbox/faults', { method: 'messages.send', status: 429 }, 'method'],
    ['POST', '/sandbox/faults', { method: 'history.list', status: 200 }, 'status'],
    ['POST', '/sandbox/notification-faults', { kind: 'explode' }, 'kind'],
    ['POST', '/sandbox/clock', { advanceMs: -5 }, 'advanceMs'],
    ['PATCH', '/sandbox/push', { endpoint: 'ftp://x' }, 'endpoint'],
    ['PATCH', '/sandbox/mailboxes/e@example.com', { historyIndexDelayMs: 'soon' }, 'historyIndexDelayMs'],
    ['PUT', '/sandbox/topics', { topicName: 'gmail', publishAllowed: false }, 'topicName'],
  ])('%s %s rejects %j naming %s', async (method, path, body, field) => {
    const response = await call(sandbox, method, path, body);

    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({ error: { code: 400, status: 'INVALID_ARGUMENT' } });
    expect((response.body as { error: { message: string } }).error.message).toContain(field);
  });

  it('answers 404 for an unknown message', async () => {
    const response = await call(sandbox, 'DELETE', '/sandbox/mailboxes/e@example.com/messages/19ac1f0e2b3d4a01');

    expect(response.status).toBe(404);
  });

  it('adds and clears faults, advances the clock, reads counters', async () => {
    const fault = await call(sandbox, 'POST', '/sandbox/faults', { method: 'getProfile', status: 500, count: 2, latencyMs: 5 });
    const listed = await call(sandbox, 'GET', '/sandbox/faults');
    const cleared = await call(sandbox, 'DELETE', '/sandbox/faults');
    const before = (await call(sandbox, 'GET', '/sandbox/clock')).body as { now: number };
    const after = (await call(sandbox, 'POST', '/sandbox/clock', { advanceMs: 60_000 })).body as { now: number };
    await gmailClient(sandbox, 'count@example.com').users.getProfile({ userId: 'me' });
    const counters = await call(sandbox, 'GET', '/sandbox/counters?emailAddress=count@example.com');

    expect(fault.status).toBe(201);
    expect((listed.body as { faults: unknown[] }).faults).toHaveLength(1);
    expect(cleared.status).toBe(204);
    expect(after.now - before.now).toBeGreaterThanOrEqual(60_000);
    expect(counters.body).toMatchObject({ calls: { getProfile: 1 }, quotaUnits: 1, tokenRefreshes: 1 });
  });

  it('marks a topic without publish rights', async () => {
    const response = await call(sandbox, 'PUT', '/sandbox/topics', { topicName: 'projects/p/topics/closed', publishAllowed: false });

    expect(response.status).toBe(204);
    await expect(gmailClient(sandbox, 'topic@example.com').users.watch({ userId: 'me', requestBody: { topicName: 'projects/p/topics/closed' } })).rejects.toThrow(
      'User not authorized',
    );
  });

  it('keeps serving after malformed requests', async () => {
    await call(sandbox, 'POST', '/sandbox/mailboxes', '[[[');
    await fetch(`${sandbox.url}/gmail/v1/users/me/watch`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{' });
    await fetch(`${sandbox.url}/token`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'x' });
    const unknown = await call(sandbox, 'GET', '/nowhere');
    const clock = await call(sandbox, 'GET', '/sandbox/clock');

    expect(unknown.status).toBe(404);
    expect(clock.status).toBe(200);
  });
});

describe('Gmail sandbox state file', () => {
  it('restores mailboxes, tokens and the signing key after a restart', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'gmail-sandbox-'));
    const stateFile = join(folder, 'gmail-sandbox.json');
    try {
      const first = await startSandbox({ stateFile });
      const gmail = gmailClient(first, 'persist@example.com');
      await gmail.users.watch({ userId: 'me', requestBody: { topicName: 'projects/p/topics/t' } });
      const delivered = first.deliverMessage('persist@example.com');
      const certs = await (await fetch(first.pemCertsUrl)).json();
      await first.stop();

      const second = await startSandbox({ stateFile });
      const profile = await gmailClient(second, 'persist@example.com').users.getProfile({ userId: 'me' });
      const history = await gmailClient(second, 'persist@example.com').users.history.list({ userId: 'me', startHistoryId: '1000' });
      const certsAfter = (await (await fetch(second.pemCertsUrl)).json()) as Record<string, string>;
      await second.stop();

      expect(profile.data.historyId).toBe(delivered.historyId);
      expect(history.data.history!.map((record) => record.id)).toEqual([delivered.historyId]);
      expect(second.getMailbox('persist@example.com').watch?.topicName).toBe('projects/p/topics/t');
      expect(Object.keys(certsAfter)).toEqual(Object.keys(certs as object));
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });
});
