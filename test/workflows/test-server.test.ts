import { randomUUID } from 'node:crypto';

import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';

import { counterWorkflow, sleeperWorkflow } from '../fixture-workflows';
import { createTimeSkippingEnv } from '../helpers/temporal';

describe('time-skipping test server', () => {
  let env: TestWorkflowEnvironment;

  beforeAll(async () => {
    env = await createTimeSkippingEnv();
  });

  afterAll(async () => {
    await env?.teardown();
  });

  it('sleeps a simulated day', async () => {
    const taskQueue = `test-${randomUUID()}`;
    const worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      workflowsPath: require.resolve('../fixture-workflows'),
    });

    const elapsed = await worker.runUntil(
      env.client.workflow.execute(sleeperWorkflow, { args: ['1 day'], taskQueue, workflowId: randomUUID() }),
    );

    expect(elapsed).toBeGreaterThanOrEqual(24 * 60 * 60 * 1000);
  });

  it('registers gmail-sync search attributes', async () => {
    const taskQueue = `test-${randomUUID()}`;
    const worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      workflowsPath: require.resolve('../fixture-workflows'),
    });

    await worker.runUntil(async () => {
      const handle = await env.client.workflow.start(counterWorkflow, {
        taskQueue,
        workflowId: randomUUID(),
        searchAttributes: { GmailEmailAddress: ['user@example.com'], GmailSyncStatus: ['watching'] },
      });
      await handle.signal('finish');
      const description = await handle.describe();
      expect(description.searchAttributes.GmailEmailAddress).toEqual(['user@example.com']);
      expect(description.searchAttributes.GmailSyncStatus).toEqual(['watching']);
      await handle.result();
    });
  });
});
