import { TestWorkflowEnvironment } from '@temporalio/testing';

import { provisionTemporalCli } from '../../src/provision/temporal-cli';
import { provisionTestServer } from '../../src/provision/test-server';
import { registerSearchAttributes, SEARCH_ATTRIBUTES } from '../../src/temporal/search-attributes';

/**
 * Starts Temporal's time-skipping test server (the cached Java launcher, or
 * the SDK's download where Java or Maven is missing) with gmail-sync's search
 * attributes registered, because the test server rejects undeclared ones.
 */
export async function createTimeSkippingEnv(): Promise<TestWorkflowEnvironment> {
  const server = await provisionTestServer();
  const env = await TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: server.kind === 'path' ? { type: 'existing-path', path: server.path } : { type: 'cached-download' } },
  });
  await registerSearchAttributes(env.connection, env.namespace ?? 'default');
  return env;
}

/** Starts a real Temporal dev server on a free port, with gmail-sync's search attributes. */
export async function createDevServerEnv(): Promise<TestWorkflowEnvironment> {
  const cli = await provisionTemporalCli();
  return TestWorkflowEnvironment.createLocal({
    server: {
      executable: cli.kind === 'path' ? { type: 'existing-path', path: cli.path } : { type: 'cached-download' },
      searchAttributes: SEARCH_ATTRIBUTES,
      ip: '127.0.0.1',
    },
  });
}
