import { spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import path from 'node:path';

import { Client } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';

import { DeliveryError, type Delivery } from '../../activities';
import { createPayloadCodec } from '../../src/codec/data-converter';
import { loadConfig } from '../../src/config';
import { createSandboxGmailProvider } from '../../src/gmail';
import { replayQuery, replayRunningWorkflows } from '../../src/replay/replay-histories';
import { startSandbox, type Sandbox } from '../../src/sandbox';
import { createClient } from '../../src/temporal/connection';
import { startMailbox, syncMailbox } from '../../src/temporal/mailbox-client';
import { createWorker } from '../../src/worker';
import { deliveryWorkflowId } from '../../workflows/delivery/types';
import { createDevServerEnv } from '../helpers/temporal';
import { waitForState } from '../workflows/mailbox-harness';

const ROOT = path.join(__dirname, '..', '..');
const REORDERED_WORKFLOWS = path.join(ROOT, 'test', 'fixture-workflows', 'reordered');

/** A target that is always down, so that a sync hands its message to a deliveryWorkflow that keeps running. */
class DownDelivery implements Delivery {
  deliver(): Promise<void> {
    return Promise.reject(new DeliveryError('target is down for this test', true));
  }
}

interface CommandOutput {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `npm run replay`'s script with tsx, as an operator would, and collects its output. */
function runReplayCommand(args: string[], env: Record<string, string>): Promise<CommandOutput> {
  return new Promise((resolve, reject) => {
    const child = spawn(path.join(ROOT, 'node_modules', '.bin', 'tsx'), ['src/cli/replay.ts', ...args], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', METADATA_SERVER_DETECTION: 'none', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Returns a loopback port that nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('replay command', () => {
  let env: TestWorkflowEnvironment;
  let sandbox: Sandbox;
  let client: Client;
  let worker: Worker;
  let running: Promise<void>;

  const taskQueue = `replay-${randomUUID().slice(0, 8)}`;
  const payloadKeys = `replay-test:${randomBytes(32).toString('base64')}`;
  const settings = {
    GMAIL_SYNC_TASK_QUEUE: taskQueue,
    GMAIL_SYNC_PAYLOAD_ENCRYPTION: 'on',
    GMAIL_SYNC_PAYLOAD_KEYS: payloadKeys,
  };
  const config = loadConfig({
    ...settings,
    GMAIL_SYNC_LOG_LEVEL: 'warn',
    GMAIL_SYNC_DELIVERY_TIMEOUT_MS: '300',
    // The deliveryWorkflow waits ten minutes before its second attempt, so it is still running when the tests replay it.
    GMAIL_SYNC_DELIVERY_RETRY_INITIAL_MS: '600000',
    GMAIL_SYNC_DELIVERY_RETRY_MAX_INTERVAL_MS: '600000',
  });
  const mailboxes: Array<{ workflowId: string; runId: string }> = [];
  let deliveryId: string;

  beforeAll(async () => {
    [env, sandbox] = await Promise.all([createDevServerEnv(), startSandbox({ port: 0 })]);
    client = createClient(env.connection, config);
    worker = await createWorker({
      connection: env.nativeConnection,
      config,
      gmail: createSandboxGmailProvider(sandbox.url),
      delivery: new DownDelivery(),
      client,
    });
    running = worker.run();

    // Two watching mailboxes; the first syncs a message that its down target hands to a deliveryWorkflow.
    for (const name of ['first', 'second']) {
      const emailAddress = `${name}-${randomUUID().slice(0, 8)}@example.com`;
      const started = await startMailbox(client, taskQueue, {
        emailAddress,
        watch: { topicName: 'projects/gmail-sync-test/topics/replay' },
        credential: { provider: 'sandbox' },
      });
      mailboxes.push({ workflowId: started.workflowId, runId: started.runId });
      await waitForState(client.workflow.getHandle(started.workflowId), (state) => state.historyId !== null);
      if (name === 'first') {
        const message = sandbox.deliverMessage(emailAddress);
        await syncMailbox(client, emailAddress);
        deliveryId = deliveryWorkflowId(emailAddress, message.id);
      }
    }

    // Visibility is eventually consistent: wait until it lists all three.
    const query = replayQuery({ taskQueue });
    for (let attempt = 0; attempt < 200 && (await client.workflow.count(query)).count < 3; attempt += 1) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }, 120_000);

  afterAll(async () => {
    worker?.shutdown();
    await running;
    await sandbox?.stop();
    await env?.teardown();
  });

  it('replays running mailbox and delivery workflows', async () => {
    const lines: string[] = [];

    const result = await replayRunningWorkflows({ client, taskQueue, log: (line) => lines.push(line) });

    expect(result.replayed).toBe(3);
    expect(result.failures).toEqual([]);
    expect(result.skipped).toEqual([]);
    expect(lines.filter((line) => line.endsWith(': ok'))).toHaveLength(3);
    expect(lines.some((line) => line.startsWith(`[3/3] `))).toBe(true);
    expect(lines.some((line) => line.includes(deliveryId))).toBe(true);
  });

  it('reports each mailbox of a reordered workflow', async () => {
    const result = await replayRunningWorkflows({ client, taskQueue, workflowsPath: REORDERED_WORKFLOWS });

    expect(result.replayed).toBe(3);
    const failed = result.failures.map(({ workflowId, runId }) => ({ workflowId, runId }));
    expect(failed).toEqual(expect.arrayContaining(mailboxes));
    expect(failed).toHaveLength(2);
    for (const failure of result.failures) {
      expect(failure.nondeterministic).toBe(true);
      expect(failure.error).toMatch(/nondetermin/i);
    }
  });

  it('fails encrypted histories without the payload keys', async () => {
    const plainClient = new Client({ connection: env.connection, namespace: env.namespace });

    const result = await replayRunningWorkflows({ client: plainClient, taskQueue });

    expect(result.replayed).toBe(3);
    expect(result.failures).toHaveLength(3);
    for (const failure of result.failures) {
      expect(failure.nondeterministic).toBe(false);
      expect(failure.error).toContain('binary/encrypted');
    }
  });

  it('limits the executions it replays', async () => {
    const result = await replayRunningWorkflows({ client, taskQueue, limit: 1 });

    expect(result.replayed).toBe(1);
  });

  it('finds nothing on another task queue', async () => {
    const result = await replayRunningWorkflows({ client, taskQueue: `${taskQueue}-other` });

    expect(result.replayed).toBe(0);
  });

  // The running deliveryWorkflow of this world also shows its activity summary, encrypted like every payload.
  it('encrypts the delivery activity summary', async () => {
    const history = await client.workflow.getHandle(deliveryId).fetchHistory();
    const scheduled = history.events?.find((event) => event.activityTaskScheduledEventAttributes);
    const summary = scheduled?.userMetadata?.summary;

    expect(summary).toBeDefined();
    expect(Buffer.from(summary!.metadata!.encoding).toString()).toBe('binary/encrypted');
    const [decoded] = await createPayloadCodec(config)!.decode([summary!]);
    const messageId = deliveryId.split('/').pop();
    expect(defaultPayloadConverter.fromPayload(decoded)).toBe(`messages.get and deliver ${messageId} to the default target`);
  });

  describe('as a command', () => {
    const commandEnv = (): Record<string, string> => ({ ...settings, TEMPORAL_ADDRESS: env.address });

    it('exits 0 when every history replays', async () => {
      const output = await runReplayCommand([], commandEnv());

      expect(output.stderr).toBe('');
      expect(output.stdout).toContain('[3/3] ');
      expect(output.stdout).toContain('3 passed, 0 failed, 0 skipped');
      expect(output.code).toBe(0);
    });

    it('exits 1 and lists each nondeterministic run', async () => {
      const output = await runReplayCommand(['--workflows-path', REORDERED_WORKFLOWS], commandEnv());

      for (const { workflowId, runId } of mailboxes) {
        expect(output.stdout).toContain(`  ${workflowId} run ${runId}: nondeterminism`);
      }
      expect(output.stdout).toContain('2 workflow execution(s) failed to replay');
      expect(output.code).toBe(1);
    });

    it('exits 2 when Temporal is unreachable', async () => {
      const address = `127.0.0.1:${await closedPort()}`;

      const output = await runReplayCommand([], { ...commandEnv(), TEMPORAL_ADDRESS: address });

      expect(output.stdout).toContain(`Temporal is unreachable at ${address}`);
      expect(output.code).toBe(2);
    }, 30_000);

    it('exits 2 on an invalid option', async () => {
      const output = await runReplayCommand(['--limit', 'all'], commandEnv());

      expect(output.stdout).toContain('--limit "all" is invalid');
      expect(output.code).toBe(2);
    });

    it('exits 2 without payload keys while encryption is on', async () => {
      const output = await runReplayCommand([], { TEMPORAL_ADDRESS: env.address, GMAIL_SYNC_TASK_QUEUE: taskQueue });

      expect(output.stdout).toContain('GMAIL_SYNC_PAYLOAD_KEYS is missing');
      expect(output.code).toBe(2);
    });
  });
});
