/**
 * End to end over real sockets: what `npm run dev` starts (a Temporal dev
 * server, the product worker, the Gmail sandbox and the API) on free ports.
 * A mailbox is started over the API, 20 messages arrive through the sandbox
 * with duplicated and dropped notifications and Gmail returning 429 for some
 * calls, and the mailbox must catch up with every message delivered.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';

import type { TestWorkflowEnvironment } from '@temporalio/testing';
import pino from 'pino';

import type { RecordingDelivery } from '../../activities';
import { buildApiServer } from '../../src/api/server';
import { loadConfig } from '../../src/config';
import type { Sandbox } from '../../src/sandbox';
import type { MailboxState } from '../../workflows/mailbox/types';
import { PUSH_AUDIENCE, PUSH_SERVICE_ACCOUNT as OIDC_SERVICE_ACCOUNT, startOidcIssuer } from '../api/helpers/oidc';
import { API_TOKEN, eventually, startDevStack, type DevStack } from './dev-stack-harness';

const MESSAGES = 20;

describe('dev stack end to end', () => {
  let stack: DevStack;
  let env: TestWorkflowEnvironment;
  let sandbox: Sandbox;
  let apiUrl: string;
  let delivery: RecordingDelivery;

  beforeAll(async () => {
    stack = await startDevStack();
    ({ env, sandbox, apiUrl, delivery } = stack);
  });

  afterAll(async () => {
    await stack?.teardown();
  });

  function apiCall(method: string, path: string, body?: object): Promise<Response> {
    return stack.apiCall(method, path, body);
  }

  function mailboxState(emailAddress: string): Promise<MailboxState> {
    return stack.mailboxState(emailAddress);
  }

  it('catches up with 20 messages through faults', async () => {
    const emailAddress = `e2e-${randomUUID().slice(0, 8)}@example.com`;
    sandbox.createMailbox({ emailAddress, historyId: '9007199254740993' });

    // 1. Start the mailbox over the API and wait for its first watch.
    const started = await apiCall('POST', '/v1/mailboxes', { emailAddress });
    expect(started.status).toBe(201);
    await eventually(async () => (await mailboxState(emailAddress)).historyId !== null);

    // 2. Faults: duplicated pushes, one dropped push, and history.list answering 429 with Retry-After.
    //    NOTE: messages.get gets no fault; message delivery has its own tests in test/activities.
    sandbox.addNotificationFault({ kind: 'duplicate', emailAddress, count: 3 });
    sandbox.addFault({ method: 'history.list', emailAddress, status: 429, count: 2, retryAfterSeconds: 1 });

    // 3. Deliver 20 messages, each more than a second of sandbox time apart, so Gmail's
    //    one-notification-per-second limit does not drop them; one push is dropped on purpose.
    const messageIds: string[] = [];
    for (let i = 0; i < MESSAGES; i++) {
      if (i === 10) {
        sandbox.addNotificationFault({ kind: 'drop', emailAddress, count: 1 });
      }
      messageIds.push(sandbox.deliverMessage(emailAddress, { subject: `message ${i}` }).id);
      sandbox.advanceClock(1100);
    }
    const finalHistoryId = sandbox.getMailbox(emailAddress).historyId;

    // 4. The cursor reaches the sandbox's final historyId and every message was delivered.
    await eventually(async () => (await mailboxState(emailAddress)).historyId === finalHistoryId);
    const state = await mailboxState(emailAddress);
    expect(state.status).toBe('watching');
    expect(state.historyId).toBe(finalHistoryId);
    expect(delivery.messageIds(emailAddress).sort()).toEqual([...messageIds].sort());

    // 5. A repeated delivery carries the same delivery id as the first.
    const added = delivery.delivered.filter((entry) => entry.emailAddress === emailAddress && entry.kind === 'messageAdded');
    for (const entry of added) {
      expect(entry.deliveryId).toBe(`${emailAddress}/${entry.messageId}`);
    }

    // 6. The faults happened: every 429 was served, and the sandbox duplicated three pushes and dropped one.
    expect(sandbox.listFaults().filter((fault) => fault.emailAddress === emailAddress)).toEqual([]);
    const notifications = sandbox.getCounters(emailAddress).notifications;
    expect(notifications.duplicated).toBe(3);
    expect(notifications.dropped).toBe(1);
    expect(notifications.rateLimited).toBe(0);

    // 7. The pushes went through the API's push endpoint and its token check.
    const metrics = await (await fetch(`${apiUrl}/metrics`)).text();
    const signalled = Number(/gmail_sync_pushes_total\{outcome="signalled"\} (\d+)/.exec(metrics)?.[1]);
    expect(signalled).toBeGreaterThanOrEqual(MESSAGES - 1 + 3);
  });

  it('syncs from the cursor on the push guide example', async () => {
    // The guide's push names user@example.com with historyId 1234567890; the mailbox starts below it.
    sandbox.createMailbox({ emailAddress: 'user@example.com', historyId: '1234567800' });
    const started = await apiCall('POST', '/v1/mailboxes', { emailAddress: 'user@example.com' });
    expect(started.status).toBe(201);
    await eventually(async () => (await mailboxState('user@example.com')).historyId !== null);
    const messageId = sandbox.deliverMessage('user@example.com', { subject: 'before the guide push' }).id;
    sandbox.advanceClock(1100);
    await eventually(() => Promise.resolve(delivery.messageIds('user@example.com').includes(messageId)));
    const before = await mailboxState('user@example.com');

    // A second API in front of the same Temporal trusts a local issuer, so the guide's bytes can be sent as they are.
    const issuer = await startOidcIssuer();
    const guideApi = await buildApiServer({
      config: { ...loadConfig({ GMAIL_SYNC_LOG_LEVEL: 'warn', GMAIL_SYNC_PAYLOAD_ENCRYPTION: 'off' }), apiToken: API_TOKEN, pushAudience: PUSH_AUDIENCE, pushServiceAccount: OIDC_SERVICE_ACCOUNT, pushCertsUrl: issuer.certsUrl },
      client: env.client,
      logger: pino({ level: 'warn' }),
      mailboxDefaults: { credential: { provider: 'sandbox' } },
      resolveMailboxAddress: (address) => Promise.resolve(address),
    });
    try {
      const response = await guideApi.app.inject({
        method: 'POST',
        url: '/pubsub/push',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${issuer.sign()}` },
        payload: readFileSync(path.resolve(__dirname, '..', 'fixtures', 'pubsub', 'push-guide-example.json')),
      });
      expect(response.statusCode).toBe(204);

      // The notification is above the cursor, so the workflow syncs from its cursor.
      await eventually(async () => (await mailboxState('user@example.com')).counters.syncs > before.counters.syncs);
      const after = await mailboxState('user@example.com');
      expect(after.counters.notifications).toBe(before.counters.notifications + 1);
      expect(after.historyId).toBe(sandbox.getMailbox('user@example.com').historyId);
    } finally {
      await guideApi.app.close();
      await issuer.close();
    }
  });
});
