import { PubSub } from '@google-cloud/pubsub';
import { TestWorkflowEnvironment } from '@temporalio/testing';

import { runSetup } from '../../src/cli/setup';
import { provisionTemporalCli } from '../../src/provision/temporal-cli';
import { startPubsubFake, type PubsubFake } from '../helpers/pubsub-fake';

const PROJECT = 'gmail-sync-test';
const PUSH_ARGS = [
  '--project', PROJECT,
  '--push-endpoint', 'https://gmail-sync.example.com/pubsub/push',
  '--push-service-account', 'pubsub-push@gmail-sync-test.iam.gserviceaccount.com',
  '--skip-temporal',
];

async function setup(argv: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; output: string[] }> {
  const output: string[] = [];
  const code = await runSetup(argv, { ...env, PATH: process.env.PATH }, (line) => output.push(line));
  return { code, output };
}

describe('setup command', () => {
  let fake: PubsubFake;
  let pubsub: PubSub;

  beforeAll(async () => {
    fake = await startPubsubFake();
    pubsub = new PubSub({ projectId: PROJECT });
  });

  afterAll(async () => {
    await pubsub?.close();
    await fake?.stop();
  });

  it('prints the plan on dry run and creates nothing', async () => {
    const { code, output } = await setup([...PUSH_ARGS, '--topic', 'dry-run-topic', '--dry-run']);

    expect(code).toBe(0);
    expect(output.join('\n')).toContain('1/4 would create the topic dry-run-topic');
    expect(output.join('\n')).toContain('would grant roles/pubsub.publisher on dry-run-topic to serviceAccount:gmail-api-push@system.gserviceaccount.com');
    expect(output.join('\n')).toContain('would create the push subscription to https://gmail-sync.example.com/pubsub/push');
    const [exists] = await pubsub.topic('dry-run-topic').exists();
    expect(exists).toBe(false);
  });

  it('creates topic, grant, dead-letter topic and push subscription', async () => {
    const { code, output } = await setup([...PUSH_ARGS, '--topic', 'push-topic', '--subscription', 'push-sub']);

    expect(code).toBe(0);
    expect(output).toEqual(expect.arrayContaining(['1/4 created', '2/4 updated', '3/4 created', '4/4 created']));
    const [metadata] = await pubsub.subscription('push-sub').getMetadata();
    expect(metadata.topic).toBe(`projects/${PROJECT}/topics/push-topic`);
    expect(metadata.pushConfig?.pushEndpoint).toBe('https://gmail-sync.example.com/pubsub/push');
    expect(metadata.pushConfig?.oidcToken?.serviceAccountEmail).toBe('pubsub-push@gmail-sync-test.iam.gserviceaccount.com');
    expect(metadata.pushConfig?.oidcToken?.audience).toBe('https://gmail-sync.example.com/pubsub/push');
    expect(metadata.deadLetterPolicy?.deadLetterTopic).toBe(`projects/${PROJECT}/topics/push-topic-dead-letter`);
    expect(metadata.deadLetterPolicy?.maxDeliveryAttempts).toBe(10);
    const [policy] = await pubsub.topic('push-topic').iam.getPolicy();
    expect(policy.bindings).toEqual([
      expect.objectContaining({ role: 'roles/pubsub.publisher', members: ['serviceAccount:gmail-api-push@system.gserviceaccount.com'] }),
    ]);
  });

  it('changes nothing when run twice', async () => {
    await setup([...PUSH_ARGS, '--topic', 'twice-topic', '--subscription', 'twice-sub']);

    const { code, output } = await setup([...PUSH_ARGS, '--topic', 'twice-topic', '--subscription', 'twice-sub']);

    expect(code).toBe(0);
    expect(output.filter((line) => /^\d\/4 /.test(line) && !line.endsWith('...'))).toEqual([
      '1/4 unchanged: the topic exists',
      '2/4 unchanged: Gmail can already publish',
      '3/4 unchanged: the topic exists',
      '4/4 unchanged: the subscription exists with these settings',
    ]);
    const [policy] = await pubsub.topic('twice-topic').iam.getPolicy();
    expect(policy.bindings?.[0]?.members).toEqual(['serviceAccount:gmail-api-push@system.gserviceaccount.com']);
  });

  it('updates a subscription whose push endpoint moved', async () => {
    await setup([...PUSH_ARGS, '--topic', 'moved-topic', '--subscription', 'moved-sub']);
    const moved = PUSH_ARGS.map((arg) => (arg.startsWith('https://') ? 'https://new.example.com/pubsub/push' : arg));

    const { output } = await setup([...moved, '--topic', 'moved-topic', '--subscription', 'moved-sub']);

    expect(output).toContain('4/4 updated: push config');
    const [metadata] = await pubsub.subscription('moved-sub').getMetadata();
    expect(metadata.pushConfig?.pushEndpoint).toBe('https://new.example.com/pubsub/push');
  });

  it('creates a pull subscription and prints its setting', async () => {
    const { code, output } = await setup(['--project', PROJECT, '--pull', '--topic', 'pull-topic', '--skip-temporal']);

    expect(code).toBe(0);
    const [metadata] = await pubsub.subscription('gmail-sync-pull').getMetadata();
    expect(metadata.pushConfig?.pushEndpoint ?? '').toBe('');
    expect(output).toContain(`  GMAIL_SYNC_PULL_SUBSCRIPTION=projects/${PROJECT}/subscriptions/gmail-sync-pull`);
  });

  it.each([
    [['--push-endpoint', 'http://insecure.example.com/push', '--push-service-account', 'a@b.iam.gserviceaccount.com'], '--push-endpoint "http://insecure.example.com/push" is invalid: Pub/Sub pushes only to https URLs.'],
    [['--pull', '--topic', 'goog-topic'], '--topic "goog-topic" is invalid'],
    [['--pull', '--max-delivery-attempts', '3'], '--max-delivery-attempts "3" is invalid: Pub/Sub accepts a whole number from 5 to 100.'],
    [[], 'Choose one subscription type'],
    [['--push-endpoint', 'https://x.example.com/push', '--push-service-account', 'someone@gmail.com'], '--push-service-account "someone@gmail.com" is invalid'],
  ])('rejects invalid options %j', async (extra, message) => {
    const { code, output } = await setup(['--project', PROJECT, '--skip-temporal', ...extra]);

    expect(code).toBe(2);
    expect(output[0]).toContain(message);
  });

  it('rejects a missing project', async () => {
    const { code, output } = await setup(['--pull', '--skip-temporal']);

    expect(code).toBe(2);
    expect(output[0]).toContain('--project is missing');
  });
});

describe('setup command on Temporal', () => {
  let env: TestWorkflowEnvironment;

  beforeAll(async () => {
    const cli = await provisionTemporalCli();
    // A server without gmail-sync's search attributes, as a new cluster starts.
    env = await TestWorkflowEnvironment.createLocal({
      server: { executable: cli.kind === 'path' ? { type: 'existing-path', path: cli.path } : { type: 'cached-download' }, ip: '127.0.0.1' },
    });
  });

  afterAll(async () => {
    await env?.teardown();
  });

  it('registers missing search attributes once', async () => {
    const temporalEnv = { TEMPORAL_ADDRESS: env.address, TEMPORAL_CONFIG_FILE: '/nonexistent/temporal.toml' };

    const first = await setup(['--skip-pubsub'], temporalEnv);
    const second = await setup(['--skip-pubsub'], temporalEnv);

    expect(first.output).toContain('1/1 created: GmailEmailAddress, GmailSyncStatus');
    expect(second.output).toContain('1/1 unchanged');
    const response = await env.connection.operatorService.listSearchAttributes({ namespace: 'default' });
    expect(response.customAttributes.GmailEmailAddress).toBeDefined();
    expect(response.customAttributes.GmailSyncStatus).toBeDefined();
  });

  it('prints tcld instructions for Temporal Cloud', async () => {
    const { output } = await setup(['--skip-pubsub'], { TEMPORAL_ADDRESS: 'my-namespace.a1b2c.tmprl.cloud:7233', TEMPORAL_NAMESPACE: 'my-namespace.a1b2c' });

    expect(output.join('\n')).toContain('tcld namespace search-attributes add --namespace my-namespace.a1b2c');
  });
});
