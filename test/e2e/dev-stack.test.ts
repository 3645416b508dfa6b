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
import type { Worker } from '@temporalio/worker';
import pino from 'pino';

import { RecordingDelivery } from '../../activities';
import { buildApiServer, type ApiServer } from '../../src/api/server';
import { loadConfig } from '../../src/config';
import { createGmailProvider, createSandboxGmailProvider, resolveMailboxAddress } from '../../src/gmail';
import { startSandbox, type Sandbox } from '../../src/sandbox';
import { createWorker } from '../../src/worker';
import type { MailboxState } from '../../workflows/mailbox/types';
import { PUSH_AUDIENCE, PUSH_SERVICE_ACCOUNT as OIDC_SERVICE_ACCOUNT, startOidcIssuer } from '../api/helpers/oidc';
import { createDevServerEnv } from '../helpers/temporal';

const API_TOKEN = 'e2e-api-token-0123456789abcdef';
const PUSH_SERVICE_ACCOUNT = 'gmail-sync-e2e-push@gmail-sync-e2e.iam.gserviceaccount.com';
const MESSAGES = 20;

/** Polls until `check` returns true; the pipeline is asynchronous end to end. */
async function eventually(check: () => Promise<boolean>, attempts = 600): Promise<void> {
  for (let attempt = 0; attempt < attempts; attempt++) {
    if (await check()) {
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`condition not met after ${attempts} polls 100 ms apart`);
}

describe('dev stack end to end', () => {
  let env: TestWorkflowEnvironment;
  let sandbox: Sandbox;
  let worker: Worker;
  let running: Promise<void>;
  let api: ApiServer;
  let apiUrl: string;
  const delivery = new RecordingDelivery();

  beforeAll(async () => {
    // 1. Temporal and the sandbox; the sandbox learns the push endpoint once the API listens.
    env = await createDevServerEnv();
    sandbox = await startSandbox({ port: 0, pushServiceAccountEmail: PUSH_SERVICE_ACCOUNT });
    const taskQueue = `e2e-${randomUUID()}`;

    // 2. The product worker with a recording delivery target.
    const base = loadConfig({ GMAIL_SYNC_TASK_QUEUE: taskQueue, GMAIL_SYNC_GMAIL_SANDBOX_URL: sandbox.url, GMAIL_SYNC_LOG_LEVEL: 'warn' });
    worker = await createWorker({ connection: env.nativeConnection, config: base, delivery });
    running = worker.run();

    // 3. The API, trusting the sandbox's signing key, on a free port.
    const gmail = createGmailProvider({ sandbox: createSandboxGmailProvider(sandbox.url) });
    api = await buildApiServer({
      config: {
        ...base,
        apiToken: API_TOKEN,
        pushAudience: 'https://gmail-sync.e2e/pubsub/push',
        pushServiceAccount: PUSH_SERVICE_ACCOUNT,
        pushCertsUrl: sandbox.pemCertsUrl,
      },
      client: env.client,
      logger: pino({ level: 'warn' }),
      mailboxDefaults: { topicName: 'projects/gmail-sync-e2e/topics/gmail-push', credential: { provider: 'sandbox' } },
      resolveMailboxAddress: (emailAddress, credential) => resolveMailboxAddress(gmail, emailAddress, credential),
    });
    apiUrl = await api.app.listen({ port: 0, host: '127.0.0.1' });
    sandbox.configurePush({
      endpoint: `${apiUrl}/pubsub/push`,
      audience: 'https://gmail-sync.e2e/pubsub/push',
      minBackoffMs: 200,
      maxBackoffMs: 1000,
    });
  });

  afterAll(async () => {
    await api?.app.close();
    worker?.shutdown();
    await running;
    await sandbox?.stop();
    await env?.teardown();
  });

  async function apiCall(method: string, path: string, body?: object): Promise<Response> {
    return fetch(`${apiUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${API_TOKEN}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
  }

  async function mailboxState(emailAddress: string): Promise<MailboxState> {
    const response = await apiCall('GET', `/v1/mailboxes/${emailAddress}`);
    return (await response.json()) as MailboxState;
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
      config: { ...loadConfig({ GMAIL_SYNC_LOG_LEVEL: 'warn' }), apiToken: API_TOKEN, pushAudience: PUSH_AUDIENCE, pushServiceAccount: OIDC_SERVICE_ACCOUNT, pushCertsUrl: issuer.certsUrl },
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
