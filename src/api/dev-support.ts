/**
 * The `npm run dev` pieces around the API: the generated API token, the
 * Gmail sandbox that pushes to the API, the dev-only configuration that makes
 * the API trust the sandbox's signing key, and the printed quick start.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import { dataPath, type Config } from '../config';
import type { Logger } from '../logger';
import { startSandbox, type Sandbox } from '../sandbox';

/** Push subscription identity that the sandbox signs as and the API expects, under `npm run dev` only. */
const DEV_PUSH_SERVICE_ACCOUNT = 'gmail-sync-dev-push@gmail-sync-dev.iam.gserviceaccount.com';
const DEV_WATCH_TOPIC = 'projects/gmail-sync-dev/topics/gmail-push';

/**
 * Returns GMAIL_SYNC_API_TOKEN when set. Otherwise it reuses the token in
 * `<data folder>/dev-api-token`, or generates one there, readable by the owner only.
 */
export function devApiToken(config: Config): { token: string; file: string | undefined } {
  if (config.apiToken !== undefined) {
    return { token: config.apiToken, file: undefined };
  }
  const file = dataPath(config, 'dev-api-token');
  if (existsSync(file)) {
    const saved = readFileSync(file, 'utf8').trim();
    if (/^\S{16,}$/.test(saved)) {
      return { token: saved, file };
    }
  }
  mkdirSync(path.dirname(file), { recursive: true });
  const token = randomBytes(24).toString('base64url');
  writeFileSync(file, `${token}\n`, { mode: 0o600 });
  return { token, file };
}

/** Starts the sandbox on the port of GMAIL_SYNC_GMAIL_SANDBOX_URL, pushing to the API with push authentication on. */
export async function startDevSandbox(config: Config, apiUrl: string, logger: Logger): Promise<Sandbox> {
  const sandboxUrl = new URL(config.gmailSandboxUrl);
  const pushEndpoint = `${apiUrl}/pubsub/push`;
  return startSandbox({
    host: sandboxUrl.hostname,
    port: Number(sandboxUrl.port || 80),
    pushEndpoint,
    pushAudience: config.pushAudience ?? pushEndpoint,
    pushServiceAccountEmail: config.pushServiceAccount ?? DEV_PUSH_SERVICE_ACCOUNT,
    stateFile: dataPath(config, 'gmail-sandbox.json'),
    logger: logger.child({ component: 'sandbox' }),
  });
}

/**
 * Builds the API configuration under `npm run dev`: the generated token, the
 * sandbox's push identity, and its certificates in place of Google's. Push
 * authentication stays on, and only the key it trusts differs.
 */
export function devApiConfig(config: Config, token: string, sandbox: Sandbox | undefined): Config {
  const apiUrl = `http://${config.apiHost}:${config.apiPort}`;
  return {
    ...config,
    apiToken: token,
    pushAudience: config.pushAudience ?? `${apiUrl}/pubsub/push`,
    pushServiceAccount: config.pushServiceAccount ?? DEV_PUSH_SERVICE_ACCOUNT,
    pushCertsUrl: sandbox ? sandbox.pemCertsUrl : config.pushCertsUrl,
    watchTopic: config.watchTopic ?? DEV_WATCH_TOPIC,
  };
}

/** Renders the addresses and a copy-paste example: start a mailbox, deliver a message, read the state. */
export function devBanner(options: { apiUrl: string; sandboxUrl?: string; uiUrl: string; temporal: string; token: string; tokenFile?: string }): string {
  const { apiUrl, sandboxUrl, token } = options;
  const lines = [
    '',
    `  API:          ${apiUrl}   (docs ${apiUrl}/docs, OpenAPI ${apiUrl}/openapi.json, metrics ${apiUrl}/metrics)`,
    `  Gmail sandbox: ${sandboxUrl ?? '(not started: GMAIL_SYNC_CREDENTIAL_PROVIDER is not sandbox)'}`,
    `  Temporal UI:  ${options.uiUrl}`,
    `  Temporal:     ${options.temporal}`,
    // A generated token is printed so the example can be pasted; a token the user set is a secret and is not.
    options.tokenFile
      ? `  API token:    ${token}   (saved in ${path.relative(process.cwd(), options.tokenFile)})`
      : '  API token:    the value of GMAIL_SYNC_API_TOKEN (not printed)',
    '',
    '  Try it:',
    options.tokenFile ? `    TOKEN=${token}` : '    TOKEN="$GMAIL_SYNC_API_TOKEN"',
    `    curl -s -X POST ${apiUrl}/v1/mailboxes -H "authorization: Bearer $TOKEN" -H 'content-type: application/json' -d '{"emailAddress":"user@example.com"}'`,
    '    sleep 3   # the first users.watch sets the cursor; a message that arrives before it is not delivered',
  ];
  if (sandboxUrl) {
    lines.push(
      `    curl -s -X POST ${sandboxUrl}/sandbox/mailboxes/user@example.com/messages -H 'content-type: application/json' -d '{"subject":"Hello from the sandbox"}'`,
    );
  }
  lines.push('    sleep 2', `    curl -s ${apiUrl}/v1/mailboxes/user@example.com -H "authorization: Bearer $TOKEN"`, '');
  return lines.join('\n');
}
