/**
 * `npm run replay`: replays the histories of running mailbox and delivery
 * workflows against the workflow code of this checkout, the check to run
 * before deploying a new worker. See `npm run replay -- --help`.
 *
 * Exit codes: 0 every history replayed, 1 at least one failed to replay,
 * 2 the check could not run (bad option or configuration, Temporal
 * unreachable).
 */
import { parseArgs } from 'node:util';

import type { Client, Connection } from '@temporalio/client';
import { DefaultLogger, Runtime } from '@temporalio/worker';

import { ConfigError, loadConfig, type Config } from '../config';
import { isTemporalUnavailable } from '../ingest/temporal-failure';
import { replayRunningWorkflows } from '../replay/replay-histories';
import { connectClient, temporalConnectionOptions } from '../temporal/connection';

export const REPLAY_USAGE = `Usage: npm run replay -- [options]

Downloads the histories of running mailboxWorkflow and deliveryWorkflow
executions and replays them against this checkout's workflow code. Run it
before deploying a new worker: a nondeterminism error means the new code
would break those workflows. The connection, namespace, task queue and
payload keys come from the same settings as the worker's (TEMPORAL_ADDRESS,
TEMPORAL_NAMESPACE, GMAIL_SYNC_TASK_QUEUE, GMAIL_SYNC_PAYLOAD_*).

Options:
  --namespace <name>       namespace to read (default: TEMPORAL_NAMESPACE)
  --task-queue <name>      task queue of the workflows (default: GMAIL_SYNC_TASK_QUEUE)
  --include-closed         replay closed executions too, while the namespace retains them
  --query <query>          visibility query that replaces the default one
  --limit <count>          replay at most this many executions
  --workflows-path <path>  workflows module to replay against (default: this checkout's workflows/)
  --help                   print this text

Exit codes: 0 every history replayed, 1 at least one history failed to
replay (each is listed with its workflow id and run id), 2 the check could
not run (bad option or configuration, Temporal unreachable).`;

export interface ReplayCommandOptions {
  namespace?: string;
  taskQueue?: string;
  includeClosed: boolean;
  query?: string;
  limit?: number;
  workflowsPath?: string;
}

class UsageError extends Error {}

/** Parses the command line; returns 'help' for --help and throws a UsageError naming a bad option. */
export function parseReplayOptions(argv: string[]): ReplayCommandOptions | 'help' {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        namespace: { type: 'string' },
        'task-queue': { type: 'string' },
        'include-closed': { type: 'boolean', default: false },
        query: { type: 'string' },
        limit: { type: 'string' },
        'workflows-path': { type: 'string' },
        help: { type: 'boolean', default: false },
      },
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const { values } = parsed;
  if (values.help) {
    return 'help';
  }
  for (const name of ['namespace', 'task-queue', 'query', 'workflows-path'] as const) {
    if (values[name] !== undefined && values[name].trim() === '') {
      throw new UsageError(`--${name} is empty: give a value or leave the option out.`);
    }
  }
  if (values.query !== undefined && values['include-closed']) {
    throw new UsageError('--include-closed has no effect with --query: write the ExecutionStatus clause into the query instead.');
  }
  return {
    namespace: values.namespace,
    taskQueue: values['task-queue'],
    includeClosed: values['include-closed'],
    query: values.query,
    limit: values.limit === undefined ? undefined : parseLimit(values.limit),
    workflowsPath: values['workflows-path'],
  };
}

function parseLimit(raw: string): number {
  if (!/^[1-9][0-9]*$/.test(raw)) {
    throw new UsageError(`--limit ${JSON.stringify(raw)} is invalid: expected a positive whole number of executions.`);
  }
  return Number(raw);
}

/** Runs the replay check with the given arguments and environment, and returns the process exit code. */
export async function runReplay(argv: string[], env: NodeJS.ProcessEnv, print: (line: string) => void): Promise<number> {
  // 1. Options and configuration; nothing is called yet.
  let options: ReplayCommandOptions | 'help';
  let config: Config;
  try {
    options = parseReplayOptions(argv);
    config = loadConfig(env);
  } catch (error) {
    if (error instanceof UsageError) {
      print(`replay: ${error.message}\n\n${REPLAY_USAGE}`);
      return 2;
    }
    if (error instanceof ConfigError) {
      print(`replay: ${error.message}`);
      return 2;
    }
    throw error;
  }
  if (options === 'help') {
    print(REPLAY_USAGE);
    return 0;
  }
  const namespace = options.namespace ?? config.temporalNamespace;
  const taskQueue = options.taskQueue ?? config.taskQueue;

  // 2. Connect with the worker's settings and data converter.
  let connection: Connection;
  let client: Client;
  try {
    ({ connection, client } = await connectClient(config));
  } catch (error) {
    if (error instanceof ConfigError) {
      print(`replay: ${error.message}`);
      return 2;
    }
    print(unreachableMessage(temporalConnectionOptions(config).address ?? config.temporalAddress, namespace, error));
    return 2;
  }

  // 3. Replay, and list what failed.
  try {
    const result = await replayRunningWorkflows({
      client,
      namespace,
      taskQueue,
      includeClosed: options.includeClosed,
      query: options.query,
      limit: options.limit,
      workflowsPath: options.workflowsPath,
      log: print,
    });
    if (result.replayed === 0 && result.skipped.length === 0) {
      print('Nothing to replay; check --namespace and --task-queue if you expected running workflows.');
    }
    if (result.failures.length === 0) {
      return 0;
    }
    print(`\n${result.failures.length} workflow execution(s) failed to replay against this code:`);
    for (const failure of result.failures) {
      print(`  ${failure.workflowId} run ${failure.runId}: ${failure.nondeterministic ? 'nondeterminism' : 'replay error'}: ${failure.error}`);
    }
    print('Do not deploy this worker as it is: guard the changed commands with patched() or start a new workflow version.');
    return 1;
  } catch (error) {
    if (isTemporalUnavailable(error)) {
      print(unreachableMessage(temporalConnectionOptions(config).address ?? config.temporalAddress, namespace, error));
      return 2;
    }
    throw error;
  } finally {
    await connection.close();
  }
}

function unreachableMessage(address: string, namespace: string, error: unknown): string {
  const reason = error instanceof Error ? error.message : String(error);
  return (
    `replay: Temporal is unreachable at ${address} (namespace ${namespace}): ${reason}. ` +
    'Start the server, or set TEMPORAL_ADDRESS (and TEMPORAL_TLS or TEMPORAL_API_KEY for a cluster) to the frontend the worker uses.'
  );
}

if (require.main === module) {
  // The replay worker logs each replayed task at info level; warnings and errors are enough here.
  Runtime.install({ logger: new DefaultLogger('WARN') });
  runReplay(process.argv.slice(2), process.env, (line) => process.stdout.write(`${line}\n`))
    .then((code) => process.exit(code))
    .catch((error: unknown) => {
      process.stderr.write(`replay failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exit(2);
    });
}
