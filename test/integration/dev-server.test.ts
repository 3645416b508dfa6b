import { randomUUID } from 'node:crypto';

import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';

import { addSignal, counterWorkflow, finishSignal, totalQuery } from '../fixture-workflows';
import { createDevServerEnv } from '../helpers/temporal';

describe('Temporal dev server', () => {
  let env: TestWorkflowEnvironment;

  beforeAll(async () => {
    env = await createDevServerEnv();
  });

  afterAll(async () => {
    await env?.teardown();
  });

  it('signals a workflow and queries its state', async () => {
    const taskQueue = `test-${randomUUID()}`;
    const worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      workflowsPath: require.resolve('../fixture-workflows'),
    });

    await worker.runUntil(async () => {
      const handle = await env.client.workflow.start(counterWorkflow, { taskQueue, workflowId: randomUUID() });
      await handle.signal(addSignal, 2);
      await handle.signal(addSignal, 3);

      expect(await handle.query(totalQuery)).toBe(5);

      await handle.signal(finishSignal);
      expect(await handle.result()).toBe(5);
    });
  });

  it('has gmail-sync search attributes', async () => {
    const response = await env.connection.operatorService.listSearchAttributes({ namespace: 'default' });

    expect(Object.keys(response.customAttributes)).toEqual(expect.arrayContaining(['GmailEmailAddress', 'GmailSyncStatus']));
  });
});
