/**
 * Installs the tools that dev, tests and CI need, each once per machine:
 *   tsx scripts/provision.ts [temporal-cli | test-server | pubsub-fake | all]
 * Each step is a no-op when its tool is already there.
 */
import { provisionPubsubFake } from '../src/provision/pubsub-fake';
import { provisionTemporalCli } from '../src/provision/temporal-cli';
import { provisionTestServer } from '../src/provision/test-server';

const steps: Record<string, () => Promise<unknown>> = {
  'temporal-cli': () => provisionTemporalCli(),
  'test-server': () => provisionTestServer(),
  'pubsub-fake': () => provisionPubsubFake(),
};

async function main(): Promise<void> {
  const requested = process.argv.slice(2);
  const names = requested.length === 0 || requested.includes('all') ? Object.keys(steps) : requested;
  for (const name of names) {
    const step = steps[name];
    if (!step) {
      throw new Error(`Unknown step "${name}". Use one of: ${Object.keys(steps).join(', ')}, all.`);
    }
    await step();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`[provision] failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
