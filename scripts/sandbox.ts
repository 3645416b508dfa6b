/**
 * `npm run sandbox`: runs the Gmail sandbox on its own, for demos and for
 * pointing a locally run API or worker at it. Ctrl-C stops it and saves its
 * state file.
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';

import { createLogger } from '../src/logger';
import { startSandbox } from '../src/sandbox';

const HELP = `Usage: npm run sandbox -- [options]

  --port N               port to listen on (default 3001; 0 picks a free port)
  --host ADDRESS         listen address (default 127.0.0.1)
  --push-endpoint URL    POST push notifications here, e.g. http://127.0.0.1:3000/pubsub/push
  --push-audience AUD    aud claim of the push token (default: the push endpoint)
  --push-service-account EMAIL
                         email claim of the push token
  --state-file PATH      state file (default $GMAIL_SYNC_DATA_DIR/gmail-sandbox.json, with .data as the folder)
  --in-memory            keep no state file
`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: '3001' },
      host: { type: 'string', default: '127.0.0.1' },
      'push-endpoint': { type: 'string' },
      'push-audience': { type: 'string' },
      'push-service-account': { type: 'string' },
      'state-file': { type: 'string' },
      'in-memory': { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(HELP);
    return;
  }
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`invalid --port ${values.port}: expected an integer from 0 to 65535`);
  }

  const logger = createLogger({ logLevel: 'info' }, 'gmail-sandbox');
  const stateFile = values['in-memory'] ? undefined : (values['state-file'] ?? join(process.env.GMAIL_SYNC_DATA_DIR ?? '.data', 'gmail-sandbox.json'));
  const sandbox = await startSandbox({
    port,
    host: values.host,
    pushEndpoint: values['push-endpoint'],
    pushAudience: values['push-audience'],
    pushServiceAccountEmail: values['push-service-account'],
    stateFile,
    logger,
  });
  process.stdout.write(
    `\n  Gmail sandbox: ${sandbox.url}\n  token endpoint: ${sandbox.tokenUrl}\n  certificates:   ${sandbox.pemCertsUrl}\n` +
      `  deliver a message: npm run sandbox:deliver -- alice@example.com --subject Hello\n\n`,
  );

  // Stop on the first Ctrl-C or SIGTERM; stop() saves the state file.
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await sandbox.stop();
}

main().catch((error: unknown) => {
  process.stderr.write(`gmail sandbox failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
