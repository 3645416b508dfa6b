/**
 * The `npm run dev` pieces around the API: the generated API token, the
 * Gmail sandbox that pushes to the API, the dev-only configuration that makes
 * the API trust the sandbox's signing key, and the printed quick start.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import { dataPath, type Config } from '../config';
import { parseKeyring } from '../credentials/token-cipher';
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
  const token = devSecretFile(config, 'dev-api-token', () => randomBytes(24).toString('base64url'), (saved) => /^\S{16,}$/.test(saved));
  return { token, file: dataPath(config, 'dev-api-token') };
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
 * sandbox's push identity, its certificates in place of Google's, and the
 * dev server's UI as the codec server's browser origin. Push authentication
 * stays on, and only the key it trusts differs.
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
    // The default origins name port 8233, so they follow TEMPORAL_UI_PORT of the dev server's UI.
    codecCorsOrigins: config.env.GMAIL_SYNC_CODEC_CORS_ORIGINS
      ? config.codecCorsOrigins
      : [`http://localhost:${config.temporalUiPort}`, `http://127.0.0.1:${config.temporalUiPort}`],
  };
}

/** OAuth client that `npm run dev` registers with the sandbox when GMAIL_SYNC_OAUTH_CLIENT_ID is unset. */
const DEV_OAUTH_CLIENT = { clientId: 'gmail-sync-dev.apps.googleusercontent.com', clientSecret: 'gmail-sync-dev-secret' };

/**
 * Reads a dev secret from `<data folder>/<name>`, or writes a generated one
 * there readable by the owner only, when `valid` rejects or the file is missing.
 */
function devSecretFile(config: Config, name: string, generate: () => string, valid: (saved: string) => boolean): string {
  const file = dataPath(config, name);
  if (existsSync(file)) {
    const saved = readFileSync(file, 'utf8').trim();
    if (valid(saved)) {
      return saved;
    }
  }
  mkdirSync(path.dirname(file), { recursive: true });
  const value = generate();
  writeFileSync(file, `${value}\n`, { mode: 0o600 });
  return value;
}

/**
 * Points the credential settings at the sandbox under `npm run dev`: the
 * Gmail API, authorization and token URLs that the environment leaves unset,
 * an OAuth client registered with the sandbox, a generated token keyring in
 * `<data folder>/dev-token-keys`, and for workspace a service account key
 * that the sandbox creates, in `<data folder>/sandbox-service-account.json`.
 * Settings the user set are kept.
 */
export function devCredentialConfig(config: Config, sandbox: Sandbox, apiUrl: string): Config {
  const unset = (name: string): boolean => config.env[name] === undefined || config.env[name] === '';
  const dev: Config = {
    ...config,
    gmailApiUrl: unset('GMAIL_SYNC_GMAIL_API_URL') ? `${sandbox.url}/` : config.gmailApiUrl,
    googleAuthUrl: unset('GMAIL_SYNC_GOOGLE_AUTH_URL') ? sandbox.authUrl : config.googleAuthUrl,
    googleTokenUrl: unset('GMAIL_SYNC_GOOGLE_TOKEN_URL') ? sandbox.tokenUrl : config.googleTokenUrl,
  };
  if (config.credentialProvider === 'oauth') {
    dev.oauthClientId = config.oauthClientId ?? DEV_OAUTH_CLIENT.clientId;
    dev.oauthClientSecret = config.oauthClientSecret ?? DEV_OAUTH_CLIENT.clientSecret;
    dev.oauthRedirectUrl = config.oauthRedirectUrl ?? `${apiUrl}/v1/oauth/callback`;
    dev.tokenKeys =
      config.tokenKeys ??
      parseKeyring(devSecretFile(config, 'dev-token-keys', () => `dev:${randomBytes(32).toString('base64')}`, (saved) => isKeyring(saved)));
    sandbox.registerOAuthClient({ clientId: dev.oauthClientId, clientSecret: dev.oauthClientSecret, redirectUris: [dev.oauthRedirectUrl] });
  }
  if (config.credentialProvider === 'workspace' && config.workspaceKeyFile === undefined) {
    const file = dataPath(config, 'sandbox-service-account.json');
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, JSON.stringify(sandbox.createServiceAccount({}, sandbox.tokenUrl), null, 2), { mode: 0o600 });
    dev.workspaceKeyFile = file;
  }
  return dev;
}

function isKeyring(raw: string): boolean {
  try {
    parseKeyring(raw);
    return true;
  } catch {
    return false;
  }
}

/** Renders the addresses and a copy-paste example: start a mailbox, deliver a message, read the state. */
export function devBanner(options: {
  apiUrl: string;
  sandboxUrl?: string;
  uiUrl: string;
  temporal: string;
  token: string;
  tokenFile?: string;
  credentialProvider?: string;
}): string {
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
    ...(options.credentialProvider === 'oauth'
      ? [
          `    LINK=$(curl -s -X POST ${apiUrl}/v1/oauth/links -H "authorization: Bearer $TOKEN" -H 'content-type: application/json' -d '{"emailAddress":"user@example.com"}' | node -pe 'JSON.parse(require("fs").readFileSync(0, "utf8")).url')`,
          `    curl -s -L -H 'accept: application/json' "$LINK"   # the consent flow; opening $LINK in a browser works too`,
        ]
      : [`    curl -s -X POST ${apiUrl}/v1/mailboxes -H "authorization: Bearer $TOKEN" -H 'content-type: application/json' -d '{"emailAddress":"user@example.com"}'`]),
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
