import type { PubSub } from '@google-cloud/pubsub';

import type { SetupStep } from './steps';

/** Gmail publishes every mailbox notification as this service account. */
export const GMAIL_PUSH_SERVICE_ACCOUNT = 'serviceAccount:gmail-api-push@system.gserviceaccount.com';
export const PUBLISHER_ROLE = 'roles/pubsub.publisher';

export interface PubsubSetupOptions {
  project: string;
  topic: string;
  subscription: string;
  deadLetterTopic: string;
  maxDeliveryAttempts: number;
  /** Push subscription settings; a pull subscription when absent. */
  push?: { endpoint: string; serviceAccountEmail: string; audience: string };
}

const topicPath = (project: string, topic: string): string => `projects/${project}/topics/${topic}`;

function ensureTopic(pubsub: PubSub, name: string, purpose: string): SetupStep {
  return {
    description: `create the ${purpose} ${name}`,
    run: async () => {
      const topic = pubsub.topic(name);
      const [exists] = await topic.exists();
      if (exists) {
        return { result: 'unchanged', detail: 'the topic exists' };
      }
      await pubsub.createTopic(name);
      return { result: 'created' };
    },
  };
}

function grantGmailPublish(pubsub: PubSub, topicName: string): SetupStep {
  return {
    description: `grant ${PUBLISHER_ROLE} on ${topicName} to ${GMAIL_PUSH_SERVICE_ACCOUNT}`,
    run: async () => {
      const iam = pubsub.topic(topicName).iam;
      const [policy] = await iam.getPolicy();
      const bindings = policy.bindings ?? [];
      const binding = bindings.find((candidate) => candidate.role === PUBLISHER_ROLE);
      if (binding?.members?.includes(GMAIL_PUSH_SERVICE_ACCOUNT)) {
        return { result: 'unchanged', detail: 'Gmail can already publish' };
      }
      if (binding) {
        binding.members = [...(binding.members ?? []), GMAIL_PUSH_SERVICE_ACCOUNT];
      } else {
        bindings.push({ role: PUBLISHER_ROLE, members: [GMAIL_PUSH_SERVICE_ACCOUNT] });
      }
      // The policy keeps the etag it was read with, so a concurrent change fails instead of being overwritten.
      await iam.setPolicy({ ...policy, bindings });
      return { result: 'updated' };
    },
  };
}

function ensureSubscription(pubsub: PubSub, options: PubsubSetupOptions): SetupStep {
  const kind = options.push ? `push subscription to ${options.push.endpoint}` : 'pull subscription';
  const deadLetterPolicy = {
    deadLetterTopic: topicPath(options.project, options.deadLetterTopic),
    maxDeliveryAttempts: options.maxDeliveryAttempts,
  };
  const pushConfig = options.push
    ? {
        pushEndpoint: options.push.endpoint,
        oidcToken: { serviceAccountEmail: options.push.serviceAccountEmail, audience: options.push.audience },
      }
    : {};
  return {
    description: `create the ${kind} ${options.subscription} on ${options.topic}, dead-lettering to ${options.deadLetterTopic} after ${options.maxDeliveryAttempts} attempts`,
    run: async () => {
      const subscription = pubsub.subscription(options.subscription);
      const [exists] = await subscription.exists();
      if (!exists) {
        await pubsub.topic(options.topic).createSubscription(options.subscription, { pushConfig, deadLetterPolicy, ackDeadlineSeconds: 60 });
        return { result: 'created' };
      }
      const [metadata] = await subscription.getMetadata();
      const currentEndpoint = metadata.pushConfig?.pushEndpoint ?? '';
      const currentOidc = metadata.pushConfig?.oidcToken;
      const pushMatches =
        currentEndpoint === (pushConfig.pushEndpoint ?? '') &&
        (currentOidc?.serviceAccountEmail ?? '') === (pushConfig.oidcToken?.serviceAccountEmail ?? '') &&
        (currentOidc?.audience ?? '') === (pushConfig.oidcToken?.audience ?? '');
      const deadLetterMatches =
        metadata.deadLetterPolicy?.deadLetterTopic === deadLetterPolicy.deadLetterTopic &&
        metadata.deadLetterPolicy?.maxDeliveryAttempts === deadLetterPolicy.maxDeliveryAttempts;
      if (pushMatches && deadLetterMatches) {
        return { result: 'unchanged', detail: 'the subscription exists with these settings' };
      }
      // UpdateSubscription with only the changed fields, which the Pub/Sub fake implements too (it lacks ModifyPushConfig).
      await subscription.setMetadata({
        ...(pushMatches ? {} : { pushConfig }),
        ...(deadLetterMatches ? {} : { deadLetterPolicy }),
      });
      return { result: 'updated', detail: `${pushMatches ? '' : 'push config '}${deadLetterMatches ? '' : 'dead-letter policy'}`.trim() };
    },
  };
}

/** The Pub/Sub steps of setup, in the order they must run. */
export function pubsubSteps(pubsub: PubSub, options: PubsubSetupOptions): SetupStep[] {
  return [
    ensureTopic(pubsub, options.topic, 'topic'),
    grantGmailPublish(pubsub, options.topic),
    ensureTopic(pubsub, options.deadLetterTopic, 'dead-letter topic'),
    ensureSubscription(pubsub, options),
  ];
}
