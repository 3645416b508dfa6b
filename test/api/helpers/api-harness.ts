/**
 * Builds the world for API tests once per file. It starts a real Temporal dev
 * server on a free port, a worker running the recording mailboxWorkflow on a
 * random task queue, and a local OIDC issuer. API servers built from it log
 * into `logs` as parsed JSON lines.
 */
import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';

import type { Client } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import pino from 'pino';

import { buildApiServer, type ApiServer, type ApiServerOptions } from '../../../src/api/server';
import { loadConfig, type Config } from '../../../src/config';
import { createDevServerEnv } from '../../helpers/temporal';
import { PUSH_AUDIENCE, PUSH_SERVICE_ACCOUNT, startOidcIssuer, type OidcIssuer } from './oidc';

export const API_TOKEN = 'test-api-token-0123456789abcdef';
export const TOPIC_NAME = 'projects/gmail-sync-test/topics/gmail-push';

export interface LogLine {
  level: number;
  msg: string;
  [field: string]: unknown;
}

export interface ApiHarness {
  env: TestWorkflowEnvironment;
  issuer: OidcIssuer;
  config: Config;
  taskQueue: string;
  logs: LogLine[];
  /** All captured log output as text, for checks that a secret never appears. */
  logText(): string;
  startApi(overrides?: Partial<ApiServerOptions>, client?: Client): Promise<ApiServer>;
  /** Stops the Temporal dev server while API servers keep their connection. */
  stopTemporal(): Promise<void>;
  teardown(): Promise<void>;
}

export function captureLogger(logs: LogLine[], raw: string[]): pino.Logger {
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      const text = chunk.toString('utf8');
      raw.push(text);
      for (const line of text.split('\n').filter(Boolean)) {
        logs.push(JSON.parse(line) as LogLine);
      }
      callback();
    },
  });
  return pino({ level: 'debug' }, stream);
}

export async function startApiHarness(options: { worker?: boolean } = {}): Promise<ApiHarness> {
  const env = await createDevServerEnv();
  const issuer = await startOidcIssuer();
  const taskQueue = `api-test-${randomUUID()}`;
  const config = loadConfig({
    GMAIL_SYNC_TASK_QUEUE: taskQueue,
    GMAIL_SYNC_API_TOKEN: API_TOKEN,
    GMAIL_SYNC_PUSH_AUDIENCE: PUSH_AUDIENCE,
    GMAIL_SYNC_PUSH_SERVICE_ACCOUNT: PUSH_SERVICE_ACCOUNT,
    GMAIL_SYNC_PUSH_CERTS_URL: issuer.certsUrl,
    GMAIL_SYNC_SIGNAL_TIMEOUT_MS: '3000',
    // The harness worker and env.client use the default data converter, so the API's payloads stay plain too.
    GMAIL_SYNC_PAYLOAD_ENCRYPTION: 'off',
  });

  let worker: Worker | undefined;
  let running: Promise<void> | undefined;
  if (options.worker !== false) {
    worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      workflowsPath: require.resolve('./recording-mailbox-workflow'),
    });
    running = worker.run();
  }

  const logs: LogLine[] = [];
  const raw: string[] = [];
  const servers: ApiServer[] = [];
  let temporalStopped = false;
  const stopTemporal = async (): Promise<void> => {
    if (!temporalStopped) {
      temporalStopped = true;
      await env.teardown();
    }
  };

  return {
    env,
    issuer,
    config,
    taskQueue,
    logs,
    logText: () => raw.join(''),
    async startApi(overrides = {}, client = env.client) {
      const server = await buildApiServer({
        config,
        client,
        logger: captureLogger(logs, raw),
        mailboxDefaults: { topicName: TOPIC_NAME, credential: { provider: 'sandbox' } },
        resolveMailboxAddress: (emailAddress) => Promise.resolve(emailAddress.toLowerCase()),
        ...overrides,
      });
      servers.push(server);
      return server;
    },
    stopTemporal,
    async teardown() {
      await Promise.all(servers.map((server) => server.app.close()));
      worker?.shutdown();
      await running;
      await issuer.close();
      await stopTemporal();
    },
  };
}

/** Starts the recording mailbox workflow for an address, as the API would. */
export function mailboxId(emailAddress: string): string {
  return `gmail-mailbox/${emailAddress.toLowerCase()}`;
}
