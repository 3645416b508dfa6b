import { parseArgs } from 'node:util';

import type { PubsubSetupOptions } from './pubsub';

export interface SetupOptions {
  dryRun: boolean;
  pubsub?: PubsubSetupOptions;
  temporal: boolean;
}

export const SETUP_USAGE = `Usage: npm run setup -- --project ID [options]

Creates what gmail-sync needs on Google Cloud Pub/Sub and Temporal. Every step
is idempotent, so running it again only reports what exists.

  --project ID                 Google Cloud project (default: GOOGLE_CLOUD_PROJECT)
  --topic NAME                 topic Gmail publishes to (default: gmail-sync)
  --dead-letter-topic NAME     topic for undeliverable messages (default: <topic>-dead-letter)
  --subscription NAME          subscription the service reads (default: gmail-sync-push or gmail-sync-pull)
  --push-endpoint URL          https URL of the service's /pubsub/push route (creates a push subscription)
  --push-service-account EMAIL service account whose OIDC token Pub/Sub sends with each push
  --push-audience AUDIENCE     audience of that token (default: the push endpoint)
  --pull                       create a pull subscription instead of a push one
  --max-delivery-attempts N    attempts before a message is dead-lettered, 5 to 100 (default: 10)
  --skip-pubsub                only register the Temporal search attributes
  --skip-temporal              only set up Pub/Sub
  --dry-run                    print the plan without calling anything
  --help                       print this text`;

const PROJECT_ID = /^[a-z][a-z0-9-]{4,28}[a-z0-9]$/;
// Pub/Sub resource names: 3 to 255 characters, starting with a letter, not with "goog".
const RESOURCE_NAME = /^(?!goog)[A-Za-z][A-Za-z0-9._~+%-]{2,254}$/;

/** Thrown for invalid command-line options; the message names the option, the value and the fix. */
export class UsageError extends Error {}

function requireResourceName(option: string, value: string): string {
  if (!RESOURCE_NAME.test(value)) {
    throw new UsageError(
      `--${option} "${value}" is invalid: use 3 to 255 letters, digits or . _ ~ + % -, starting with a letter and not with "goog".`,
    );
  }
  return value;
}

/** Parses and validates the setup command line. */
export function parseSetupOptions(argv: string[], env: NodeJS.ProcessEnv): SetupOptions | 'help' {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      project: { type: 'string' },
      topic: { type: 'string', default: 'gmail-sync' },
      'dead-letter-topic': { type: 'string' },
      subscription: { type: 'string' },
      'push-endpoint': { type: 'string' },
      'push-service-account': { type: 'string' },
      'push-audience': { type: 'string' },
      pull: { type: 'boolean', default: false },
      'max-delivery-attempts': { type: 'string', default: '10' },
      'skip-pubsub': { type: 'boolean', default: false },
      'skip-temporal': { type: 'boolean', default: false },
      'dry-run': { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    return 'help';
  }
  const options: SetupOptions = { dryRun: values['dry-run'], temporal: !values['skip-temporal'] };
  if (values['skip-pubsub']) {
    return options;
  }

  const project = values.project ?? env.GOOGLE_CLOUD_PROJECT;
  if (!project) {
    throw new UsageError('--project is missing: pass the Google Cloud project id, or set GOOGLE_CLOUD_PROJECT.');
  }
  if (!PROJECT_ID.test(project)) {
    throw new UsageError(`--project "${project}" is invalid: a project id has 6 to 30 lower-case letters, digits or hyphens and starts with a letter.`);
  }
  const topic = requireResourceName('topic', values.topic);
  const deadLetterTopic = requireResourceName('dead-letter-topic', values['dead-letter-topic'] ?? `${topic}-dead-letter`);
  const attempts = Number(values['max-delivery-attempts']);
  if (!Number.isInteger(attempts) || attempts < 5 || attempts > 100) {
    throw new UsageError(`--max-delivery-attempts "${values['max-delivery-attempts']}" is invalid: Pub/Sub accepts a whole number from 5 to 100.`);
  }

  const endpoint = values['push-endpoint'];
  if (values.pull === (endpoint !== undefined)) {
    throw new UsageError('Choose one subscription type: --push-endpoint URL for a push subscription, or --pull.');
  }
  let push: PubsubSetupOptions['push'];
  if (endpoint !== undefined) {
    let url: URL;
    try {
      url = new URL(endpoint);
    } catch {
      throw new UsageError(`--push-endpoint "${endpoint}" is not a URL: pass the https URL of the service's /pubsub/push route.`);
    }
    if (url.protocol !== 'https:') {
      throw new UsageError(`--push-endpoint "${endpoint}" is invalid: Pub/Sub pushes only to https URLs.`);
    }
    const serviceAccountEmail = values['push-service-account'];
    if (!serviceAccountEmail || !/^[^@\s]+@[^@\s]+\.iam\.gserviceaccount\.com$/.test(serviceAccountEmail)) {
      throw new UsageError(
        `--push-service-account "${serviceAccountEmail ?? ''}" is invalid: pass the email of the service account that signs push tokens, ending in .iam.gserviceaccount.com.`,
      );
    }
    push = { endpoint, serviceAccountEmail, audience: values['push-audience'] ?? endpoint };
  }
  const subscription = requireResourceName('subscription', values.subscription ?? (push ? 'gmail-sync-push' : 'gmail-sync-pull'));

  return { ...options, pubsub: { project, topic, deadLetterTopic, subscription, maxDeliveryAttempts: attempts, push } };
}
