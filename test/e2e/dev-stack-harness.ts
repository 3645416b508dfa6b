/**
 * Starts what `npm run dev` starts, on free ports: a Temporal dev server, the
 * product worker (with a recording delivery target unless asked otherwise),
 * the Gmail sandbox and the API, with the sandbox pushing to the API. Worker
 * and API are built through the product's own functions from one config, so
 * payload encryption follows the settings given.
 */
import { randomUUID } from 'node:crypto';

import type { Client } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import pino from 'pino';

import { RecordingDelivery } from '../../activities';
import { buildApiServer, type ApiServer } from '../../src/api/server';
import { withDevPayloadEncryptionDefault } from '../../src/codec/codec-settings';
import { loadConfig, type Config } from '../../src/config';
import { createGmailProvider, createSandboxGmailProvider, resolveMailboxAddress } from '../../src/gmail';
import { startSandbox, type Sandbox } from '../../src/sandbox';
import { createClient } from '../../src/temporal/connection';
import { createWorker } from '../../src/worker';
import type { MailboxState } from '../../workflows/mailbox/types';
import { createDevServerEnv } from '../helpers/temporal';

export const API_TOKEN = 'e2e-api-token-0123456789abcdef';
const PUSH_SERVICE_ACCOUNT = 'gmail-sync-e2e-push@gmail-sync-e2e.iam.gserviceaccount.com';

/** Polls until `check` returns true; the pipeline is asynchronous end to end. */
export async function eventually(check: () => Promise<boolean>, attempts = 600): Promise<void> {
  for (let attempt = 0; attempt < attempts; attempt++) {
    if (await check()) {
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`condition not met after ${attempts} polls 100 ms apart`);
}

export interface DevStack {
  env: TestWorkflowEnvironment;
  sandbox: Sandbox;
  api: ApiServer;
  apiUrl: string;
  /** The config that worker and API were built from. */
  config: Config;
  /** The API's Temporal client, with the data converter from config. */
  client: Client;
  /** The target of the `recording` worker; it stays empty with the other worker kinds. */
  delivery: RecordingDelivery;
  apiCall(method: string, path: string, body?: object): Promise<Response>;
  mailboxState(emailAddress: string): Promise<MailboxState>;
  teardown(): Promise<void>;
}

/**
 * Which worker the stack runs: `recording` delivers every mailbox's events to
 * one recording target; `configured` lets each mailbox's delivery options
 * choose its target and hands failed deliveries to deliveryWorkflows, as
 * `npm run worker` does; `none` starts no worker, for tests that run workers
 * as child processes.
 */
export type DevStackWorker = 'recording' | 'configured' | 'none';

/**
 * Starts the stack. `settings` are environment settings on top of the test's
 * own; payload encryption is off unless they set it, as under `npm run dev`.
 */
export async function startDevStack(settings: Record<string, string> = {}, workerKind: DevStackWorker = 'recording'): Promise<DevStack> {
  // 1. Temporal and the sandbox; the sandbox learns the push endpoint once the API listens.
  const env = await createDevServerEnv();
  const sandbox = await startSandbox({ port: 0, pushServiceAccountEmail: PUSH_SERVICE_ACCOUNT });
  const taskQueue = `e2e-${randomUUID()}`;

  // 2. The product worker.
  const delivery = new RecordingDelivery();
  const config = loadConfig(
    withDevPayloadEncryptionDefault({ GMAIL_SYNC_TASK_QUEUE: taskQueue, GMAIL_SYNC_GMAIL_SANDBOX_URL: sandbox.url, GMAIL_SYNC_LOG_LEVEL: 'warn', ...settings }),
  );
  const client = createClient(env.connection, config);
  let worker: Worker | undefined;
  if (workerKind === 'recording') {
    worker = await createWorker({ connection: env.nativeConnection, config, delivery });
  } else if (workerKind === 'configured') {
    worker = await createWorker({ connection: env.nativeConnection, config, client });
  }
  const running = worker?.run();

  // 3. The API, trusting the sandbox's signing key, on a free port.
  const gmail = createGmailProvider({ sandbox: createSandboxGmailProvider(sandbox.url) });
  const api = await buildApiServer({
    config: {
      ...config,
      apiToken: API_TOKEN,
      pushAudience: 'https://gmail-sync.e2e/pubsub/push',
      pushServiceAccount: PUSH_SERVICE_ACCOUNT,
      pushCertsUrl: sandbox.pemCertsUrl,
    },
    client,
    logger: pino({ level: 'warn' }),
    mailboxDefaults: { topicName: 'projects/gmail-sync-e2e/topics/gmail-push', credential: { provider: 'sandbox' } },
    resolveMailboxAddress: (emailAddress, credential) => resolveMailboxAddress(gmail, emailAddress, credential),
  });
  const apiUrl = await api.app.listen({ port: 0, host: '127.0.0.1' });
  sandbox.configurePush({
    endpoint: `${apiUrl}/pubsub/push`,
    audience: 'https://gmail-sync.e2e/pubsub/push',
    minBackoffMs: 200,
    maxBackoffMs: 1000,
  });

  async function apiCall(method: string, path: string, body?: object): Promise<Response> {
    return fetch(`${apiUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${API_TOKEN}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
  }

  return {
    env,
    sandbox,
    api,
    apiUrl,
    config,
    client,
    delivery,
    apiCall,
    mailboxState: async (emailAddress) => (await (await apiCall('GET', `/v1/mailboxes/${emailAddress}`)).json()) as MailboxState,
    async teardown() {
      await api.app.close();
      worker?.shutdown();
      await running;
      await sandbox.stop();
      await env.teardown();
    },
  };
}
