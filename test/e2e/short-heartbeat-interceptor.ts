/**
 * Workflow interceptor for tests that kill a worker: shortens the heartbeat
 * timeout of every activity that has one (mailboxWorkflow's regular sync
 * activities, 1 minute in the product) to 3 seconds. The server then times
 * out the killed attempt and retries it within the test. The retry policy and
 * every other option stay as the workflow sets them.
 */
import type { ActivityInput, Next, WorkflowInterceptorsFactory, WorkflowOutboundCallsInterceptor } from '@temporalio/workflow';

export const TEST_HEARTBEAT_TIMEOUT_MS = 3_000;

function scheduleActivity(input: ActivityInput, next: Next<WorkflowOutboundCallsInterceptor, 'scheduleActivity'>): Promise<unknown> {
  if (input.options.heartbeatTimeout === undefined) {
    return next(input);
  }
  return next({ ...input, options: { ...input.options, heartbeatTimeout: TEST_HEARTBEAT_TIMEOUT_MS } });
}

export const interceptors: WorkflowInterceptorsFactory = () => ({ outbound: [{ scheduleActivity }] });
