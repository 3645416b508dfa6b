/**
 * `npm run setup`: creates the Pub/Sub topic, Gmail's publish grant, the
 * dead-letter topic and the subscription, and registers gmail-sync's search
 * attributes on Temporal. See `npm run setup -- --help`.
 */
import { PubSub } from '@google-cloud/pubsub';

import { loadConfig } from '../config';
import { pubsubSteps } from '../setup/pubsub';
import { parseSetupOptions, SETUP_USAGE, UsageError, type SetupOptions } from '../setup/options';
import { runSteps, type SetupStep } from '../setup/steps';
import { temporalSteps } from '../setup/temporal';
import { connectTemporal } from '../temporal/connection';

/** Runs setup with the given arguments and returns the process exit code. */
export async function runSetup(argv: string[], env: NodeJS.ProcessEnv, print: (line: string) => void): Promise<number> {
  let options: SetupOptions | 'help';
  try {
    options = parseSetupOptions(argv, env);
  } catch (error) {
    print(`setup: ${(error as Error).message}\n\n${SETUP_USAGE}`);
    return 2;
  }
  if (options === 'help') {
    print(SETUP_USAGE);
    return 0;
  }

  // 1. Build the plan; building it calls nothing.
  const config = loadConfig(env);
  const steps: SetupStep[] = [];
  const pubsub = options.pubsub ? new PubSub({ projectId: options.pubsub.project }) : undefined;
  if (pubsub && options.pubsub) {
    steps.push(...pubsubSteps(pubsub, options.pubsub));
  }
  if (options.temporal) {
    // Setup reaches only the operator service, so it needs no payload keys.
    const connect = () => connectTemporal(config);
    steps.push(...temporalSteps(connect, config.temporalAddress, config.temporalNamespace));
  }

  // 2. Print it or run it.
  print(options.dryRun ? 'setup plan (dry run, nothing is called):' : 'setup:');
  try {
    await runSteps(steps, options.dryRun, print);
  } finally {
    await pubsub?.close();
  }

  // 3. What the service needs to know.
  if (options.pubsub) {
    const { project, topic, subscription, push } = options.pubsub;
    print('\nSettings for gmail-sync:');
    print(`  GMAIL_SYNC_WATCH_TOPIC=projects/${project}/topics/${topic}`);
    if (push) {
      print(`  GMAIL_SYNC_PUSH_AUDIENCE=${push.audience}`);
      print(`  GMAIL_SYNC_PUSH_SERVICE_ACCOUNT=${push.serviceAccountEmail}`);
    } else {
      print(`  GMAIL_SYNC_PULL_SUBSCRIPTION=projects/${project}/subscriptions/${subscription}`);
    }
    print(
      `\nDead-lettering also needs the Pub/Sub service agent (service-PROJECT_NUMBER@gcp-sa-pubsub.iam.gserviceaccount.com) to hold ` +
        `roles/pubsub.publisher on ${options.pubsub.deadLetterTopic} and roles/pubsub.subscriber on ${subscription}; grant both once in the Cloud console.`,
    );
  }
  return 0;
}

if (require.main === module) {
  runSetup(process.argv.slice(2), process.env, (line) => process.stdout.write(`${line}\n`))
    .then((code) => process.exit(code))
    .catch((error: unknown) => {
      const message = error instanceof UsageError || error instanceof Error ? error.message : String(error);
      process.stderr.write(`setup failed: ${message}\n`);
      process.exit(1);
    });
}
