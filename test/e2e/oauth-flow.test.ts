/**
 * The consent flow end to end, against both token stores: a real Temporal
 * dev server, the product worker and API built from settings (the API over a
 * real socket), and the Gmail sandbox standing in for Google's authorization,
 * token and Gmail endpoints. The browser is played by fetch with
 * `redirect: 'manual'`, so every redirect is checked before it is followed.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import Database from 'better-sqlite3';
import { Client as PgClient } from 'pg';
import pino from 'pino';

import { RecordingDelivery } from '../../activities';
import { consentFlowFromConfig } from '../../src/api/oauth/consent-flow';
import { buildApiServer, type ApiServer } from '../../src/api/server';
import { loadConfig, type Config } from '../../src/config';
import { createCredentialProviders, openTokenStore } from '../../src/credentials/credential-config';
import type { TokenStore } from '../../src/credentials/token-store';
import { resolveMailboxAddress } from '../../src/gmail';
import { startSandbox, type Sandbox } from '../../src/sandbox';
import { createClient } from '../../src/temporal/connection';
import { createWorker } from '../../src/worker';
import type { MailboxState } from '../../workflows/mailbox/types';
import { freePort } from '../helpers/free-port';
import { startPostgres, type TestPostgres } from '../helpers/postgres';
import { createDevServerEnv } from '../helpers/temporal';
import { eventually } from './dev-stack-harness';

const API_TOKEN = 'oauth-e2e-api-token-0123456789';
const PUSH_SERVICE_ACCOUNT = 'gmail-sync-oauth-e2e@gmail-sync-e2e.iam.gserviceaccount.com';
const PUSH_AUDIENCE = 'https://gmail-sync.e2e/pubsub/push';
const OAUTH_CLIENT = { clientId: 'oauth-e2e.apps.googleusercontent.com', clientSecret: 'oauth-e2e-client-secret' };
/** Consents in these tests take well under a second; the expiry test waits past this. */
const STATE_TTL_SECONDS = 4;

interface Stack {
  config: Config;
  apiUrl: string;
  tokens: TokenStore;
  delivery: RecordingDelivery;
  /** Every stored byte of the token table, to check that no token is readable. */
  rawRows(): Promise<Buffer>;
  mailboxState(emailAddress: string): Promise<MailboxState>;
  teardown(): Promise<void>;
}

let env: TestWorkflowEnvironment;
let sandbox: Sandbox;
let postgres: TestPostgres;
const dataDir = mkdtempSync(path.join(os.tmpdir(), 'gmail-sync-oauth-'));

beforeAll(async () => {
  env = await createDevServerEnv();
  sandbox = await startSandbox({ port: 0, pushServiceAccountEmail: PUSH_SERVICE_ACCOUNT });
  postgres = await startPostgres();
});

afterAll(async () => {
  await sandbox?.stop();
  await postgres?.stop();
  await env?.teardown();
});

/**
 * Starts worker and API from one set of settings, each opening the token
 * store on its own as separate processes would, and points the sandbox's
 * pushes at the API.
 */
async function startStack(store: 'sqlite' | 'postgres'): Promise<Stack> {
  const port = await freePort();
  const apiUrl = `http://127.0.0.1:${port}`;
  const workspaceKeyFile = path.join(dataDir, `${store}-service-account.json`);
  writeFileSync(workspaceKeyFile, JSON.stringify(sandbox.createServiceAccount({}, sandbox.tokenUrl)));
  sandbox.registerOAuthClient({ ...OAUTH_CLIENT, redirectUris: [`${apiUrl}/v1/oauth/callback`] });
  const sqliteFile = path.join(dataDir, `tokens-${randomUUID()}.sqlite`);
  const config = loadConfig({
    GMAIL_SYNC_TASK_QUEUE: `oauth-e2e-${randomUUID()}`,
    GMAIL_SYNC_LOG_LEVEL: 'warn',
    GMAIL_SYNC_PAYLOAD_ENCRYPTION: 'off',
    GMAIL_SYNC_CREDENTIAL_PROVIDER: 'oauth',
    GMAIL_SYNC_GMAIL_SANDBOX_URL: sandbox.url,
    GMAIL_SYNC_GMAIL_API_URL: `${sandbox.url}/`,
    GMAIL_SYNC_GOOGLE_AUTH_URL: sandbox.authUrl,
    GMAIL_SYNC_GOOGLE_TOKEN_URL: sandbox.tokenUrl,
    GMAIL_SYNC_OAUTH_CLIENT_ID: OAUTH_CLIENT.clientId,
    GMAIL_SYNC_OAUTH_CLIENT_SECRET: OAUTH_CLIENT.clientSecret,
    GMAIL_SYNC_OAUTH_REDIRECT_URL: `${apiUrl}/v1/oauth/callback`,
    GMAIL_SYNC_OAUTH_STATE_TTL_SECONDS: String(STATE_TTL_SECONDS),
    GMAIL_SYNC_WORKSPACE_KEY_FILE: workspaceKeyFile,
    GMAIL_SYNC_TOKEN_STORE: store,
    GMAIL_SYNC_TOKEN_STORE_PATH: sqliteFile,
    GMAIL_SYNC_TOKEN_STORE_URL: postgres.connectionString,
    GMAIL_SYNC_TOKEN_KEYS: `k1:${Buffer.alloc(32, 7).toString('base64')}`,
  });

  // 1. The worker, with its own token store and providers.
  const workerTokens = (await openTokenStore(config))!;
  const delivery = new RecordingDelivery();
  const worker: Worker = await createWorker({ connection: env.nativeConnection, config, delivery, tokens: workerTokens });
  const running = worker.run();

  // 2. The API, with another connection to the same store.
  const tokens = (await openTokenStore(config))!;
  const providers = createCredentialProviders(config, tokens);
  const client = createClient(env.connection, config);
  const api: ApiServer = await buildApiServer({
    config: { ...config, apiToken: API_TOKEN, pushAudience: PUSH_AUDIENCE, pushServiceAccount: PUSH_SERVICE_ACCOUNT, pushCertsUrl: sandbox.pemCertsUrl },
    client,
    logger: pino({ level: 'warn' }),
    mailboxDefaults: { topicName: 'projects/gmail-sync-e2e/topics/gmail-push', credential: { provider: 'oauth' } },
    resolveMailboxAddress: (emailAddress, credential) => resolveMailboxAddress(providers.gmail, emailAddress, credential),
    consentFlow: consentFlowFromConfig(config, tokens),
    onGrantStored: (emailAddress) => providers.oauth?.forget(emailAddress),
  });
  await api.app.listen({ port, host: '127.0.0.1' });
  sandbox.configurePush({ endpoint: `${apiUrl}/pubsub/push`, audience: PUSH_AUDIENCE, minBackoffMs: 200, maxBackoffMs: 1000 });

  const rawRows = async (): Promise<Buffer> => {
    if (store === 'sqlite') {
      const db = new Database(sqliteFile, { readonly: true });
      const rows = db.prepare('SELECT * FROM refresh_tokens').all() as Record<string, unknown>[];
      db.close();
      return Buffer.concat(rows.flatMap((row) => Object.values(row).map((value) => Buffer.from(value as string))));
    }
    const pg = new PgClient({ connectionString: postgres.connectionString });
    await pg.connect();
    const result = await pg.query('SELECT email_address, key_id, iv, ciphertext, tag, scope FROM gmail_sync_refresh_tokens');
    await pg.end();
    return Buffer.concat(result.rows.flatMap((row: Record<string, unknown>) => Object.values(row).map((value) => Buffer.from(value as string))));
  };

  return {
    config,
    apiUrl,
    tokens,
    delivery,
    rawRows,
    mailboxState: async (emailAddress) =>
      (await (await fetch(`${apiUrl}/v1/mailboxes/${emailAddress}`, { headers: { authorization: `Bearer ${API_TOKEN}` } })).json()) as MailboxState,
    async teardown() {
      await api.app.close();
      worker.shutdown();
      await running;
      await tokens.close();
      await workerTokens.close();
    },
  };
}

/** Creates a consent link as the operator does, with the API token, and returns its URL. */
async function createLink(apiUrl: string, emailAddress: string): Promise<string> {
  const response = await fetch(`${apiUrl}/v1/oauth/links`, {
    method: 'POST',
    headers: { authorization: `Bearer ${API_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ emailAddress }),
  });
  expect(response.status).toBe(201);
  return ((await response.json()) as { url: string }).url;
}

/** Plays the operator and the browser up to the callback: link, start, then the sandbox's consent, returning the callback URL. */
async function consentUpToCallback(apiUrl: string, emailAddress: string): Promise<URL> {
  const start = await fetch(await createLink(apiUrl, emailAddress), { redirect: 'manual' });
  expect(start.status).toBe(302);
  const consent = await fetch(start.headers.get('location')!, { redirect: 'manual' });
  expect(consent.status).toBe(302);
  return new URL(consent.headers.get('location')!);
}

/** Waits out the sandbox's limit of one push per mailbox per second, so the next change is pushed. */
function pushWindow(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 1100));
}

async function callback(url: URL | string, accept = 'application/json'): Promise<Response> {
  return fetch(url, { redirect: 'manual', headers: { accept } });
}

async function consent(apiUrl: string, emailAddress: string): Promise<Record<string, string>> {
  const response = await callback(await consentUpToCallback(apiUrl, emailAddress));
  const body = (await response.json()) as Record<string, string>;
  expect(response.status).toBe(200);
  return body;
}

describe.each(['sqlite', 'postgres'] as const)('consent flow with the %s token store', (store) => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await startStack(store);
  });

  afterAll(async () => {
    await stack?.teardown();
  });

  it('redirects to the authorization endpoint with PKCE and offline access', async () => {
    const response = await fetch(await createLink(stack.apiUrl, 'Pkce.User@Example.com'), { redirect: 'manual' });
    const location = new URL(response.headers.get('location')!);

    expect(response.status).toBe(302);
    expect(`${location.origin}${location.pathname}`).toBe(sandbox.authUrl);
    expect(location.searchParams.get('client_id')).toBe(OAUTH_CLIENT.clientId);
    expect(location.searchParams.get('redirect_uri')).toBe(`${stack.apiUrl}/v1/oauth/callback`);
    expect(location.searchParams.get('response_type')).toBe('code');
    expect(location.searchParams.get('access_type')).toBe('offline');
    expect(location.searchParams.get('prompt')).toBe('consent');
    expect(location.searchParams.get('scope')).toBe('https://www.googleapis.com/auth/gmail.readonly');
    expect(location.searchParams.get('code_challenge_method')).toBe('S256');
    expect(location.searchParams.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(location.searchParams.get('login_hint')).toBe('Pkce.User@Example.com');
    expect(location.searchParams.get('state')).not.toContain('pkce.user');
  });

  it('stores the token encrypted, syncs, needs reauth on revoke and resumes on consent', async () => {
    const emailAddress = `alice-${store}@example.com`;

    // 1. First consent: the mailbox starts with the stored token.
    const first = await consent(stack.apiUrl, emailAddress);
    expect(first).toMatchObject({ emailAddress, requestedEmailAddress: emailAddress, outcome: 'started', workflowId: `gmail-mailbox/${emailAddress}` });
    const stored = await stack.tokens.get(emailAddress);
    expect(stored?.refreshToken).toMatch(/^1\/\/sandbox-/);
    const raw = await stack.rawRows();
    expect(raw.includes(Buffer.from(emailAddress))).toBe(true);
    expect(raw.includes(Buffer.from(stored!.refreshToken))).toBe(false);
    expect(raw.includes(Buffer.from(stored!.refreshToken.slice(-20)))).toBe(false);

    // 2. A message is synced with it.
    await eventually(async () => (await stack.mailboxState(emailAddress)).historyId !== null);
    const before = sandbox.deliverMessage(emailAddress, { subject: 'before revoke' });
    await eventually(() => Promise.resolve(stack.delivery.messageIds(emailAddress).includes(before.id)));

    // 3. Revoking the grant moves the mailbox to needs-reauth and keeps its cursor.
    expect(sandbox.revokeConsents(emailAddress).revoked).toBe(1);
    await pushWindow();
    const whileRevoked = [sandbox.deliverMessage(emailAddress, { subject: 'revoked 1' }), sandbox.deliverMessage(emailAddress, { subject: 'revoked 2' })];
    await eventually(async () => (await stack.mailboxState(emailAddress)).status === 'needs-reauth');
    const revoked = await stack.mailboxState(emailAddress);
    expect(revoked.lastError?.message).toContain('invalid_grant');
    expect(BigInt(revoked.historyId!)).toBeLessThan(BigInt(whileRevoked[1].historyId));
    expect(stack.delivery.messageIds(emailAddress)).toEqual([before.id]);

    // 4. A new consent stores a new token and resumes from the kept cursor.
    const second = await consent(stack.apiUrl, emailAddress);
    expect(second.outcome).toBe('resumed');
    expect((await stack.tokens.get(emailAddress))?.refreshToken).not.toBe(stored!.refreshToken);
    await eventually(async () => (await stack.mailboxState(emailAddress)).historyId === whileRevoked[1].historyId);
    const resumed = await stack.mailboxState(emailAddress);
    expect(resumed.status).toBe('watching');
    expect(resumed.counters.fullResyncs).toBe(0);
    const added = stack.delivery.delivered.filter((event) => event.emailAddress === emailAddress && event.kind === 'messageAdded');
    expect(added.map((event) => event.messageId).sort()).toEqual([before.id, ...whileRevoked.map((message) => message.id)].sort());

    // 5. The cursor goes on from there.
    await pushWindow();
    const after = sandbox.deliverMessage(emailAddress, { subject: 'after consent' });
    await eventually(async () => (await stack.mailboxState(emailAddress)).historyId === after.historyId);
    expect(stack.delivery.messageIds(emailAddress)).toContain(after.id);
  });

  it('reports a running mailbox as already running', async () => {
    const emailAddress = `running-${store}@example.com`;
    expect((await consent(stack.apiUrl, emailAddress)).outcome).toBe('started');

    const again = await consent(stack.apiUrl, emailAddress);

    expect(again.outcome).toBe('already-running');
  });
});

describe('consent flow errors', () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await startStack('sqlite');
  });

  afterAll(async () => {
    await stack?.teardown();
  });

  it('rejects a forged state', async () => {
    const url = await consentUpToCallback(stack.apiUrl, 'forged@example.com');
    const state = url.searchParams.get('state')!;
    url.searchParams.set('state', `${state.slice(0, -4)}AAAA`);

    const response = await callback(url);

    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ code: 'OAUTH_STATE_INVALID' });
    expect(await stack.tokens.get('forged@example.com')).toBeUndefined();
  });

  it('rejects a missing state with an HTML page', async () => {
    const response = await callback(`${stack.apiUrl}/v1/oauth/callback?code=abc`, 'text/html,application/xhtml+xml');
    const page = await response.text();

    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toContain('text/html');
    expect(page).toContain('OAUTH_STATE_INVALID');
    expect(page).toContain('open your consent link again');
  });

  it('rejects an expired state', async () => {
    const url = await consentUpToCallback(stack.apiUrl, 'slow@example.com');
    await new Promise((resolve) => setTimeout(resolve, STATE_TTL_SECONDS * 1000 + 500));

    const response = await callback(url);
    const body = (await response.json()) as { code: string; message: string };

    expect(response.status).toBe(400);
    expect(body.code).toBe('OAUTH_STATE_EXPIRED');
    expect(body.message).toContain('slow@example.com');
    expect(await stack.tokens.get('slow@example.com')).toBeUndefined();
  });

  it('rejects a reused code', async () => {
    const url = await consentUpToCallback(stack.apiUrl, 'reused@example.com');
    expect((await callback(url)).status).toBe(200);

    const response = await callback(url);

    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ code: 'OAUTH_CODE_REJECTED' });
  });

  it('reports access_denied', async () => {
    sandbox.setNextConsent({ deny: true });
    const url = await consentUpToCallback(stack.apiUrl, 'declines@example.com');
    expect(url.searchParams.get('error')).toBe('access_denied');

    const response = await callback(url);

    expect(response.status).toBe(403);
    expect(await response.json()).toMatchObject({ code: 'OAUTH_CONSENT_DENIED' });
  });

  it('rejects a start without consent link', async () => {
    const response = await fetch(`${stack.apiUrl}/v1/oauth/start?emailAddress=stranger@example.org`, { headers: { accept: 'application/json' } });

    expect(response.status).toBe(403);
    expect(await response.json()).toMatchObject({ code: 'OAUTH_LINK_MISSING' });
    expect(await stack.tokens.get('stranger@example.org')).toBeUndefined();
  });

  it('rejects a consent by another account', async () => {
    sandbox.setNextConsent({ emailAddress: 'Actual.Signer@example.com' });
    const url = await consentUpToCallback(stack.apiUrl, 'invited@example.com');

    const response = await callback(url);
    const body = (await response.json()) as { code: string; message: string };

    expect(response.status).toBe(403);
    expect(body.code).toBe('OAUTH_ACCOUNT_MISMATCH');
    expect(body.message).toContain('You signed in as actual.signer@example.com, but the consent link is for invited@example.com');
    expect(await stack.tokens.get('actual.signer@example.com')).toBeUndefined();
    expect(await stack.tokens.get('invited@example.com')).toBeUndefined();
    for (const emailAddress of ['actual.signer@example.com', 'invited@example.com']) {
      const state = await fetch(`${stack.apiUrl}/v1/mailboxes/${emailAddress}`, { headers: { authorization: `Bearer ${API_TOKEN}` } });
      expect(state.status).toBe(404);
    }
  });

  it('syncs a workspace mailbox through the JWT grant', async () => {
    const emailAddress = 'workspace-user@example.com';
    const started = await fetch(`${stack.apiUrl}/v1/mailboxes`, {
      method: 'POST',
      headers: { authorization: `Bearer ${API_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ emailAddress, credential: { provider: 'workspace' } }),
    });
    expect(started.status).toBe(201);
    await eventually(async () => (await stack.mailboxState(emailAddress)).historyId !== null);

    const message = sandbox.deliverMessage(emailAddress, { subject: 'for the service account' });

    await eventually(() => Promise.resolve(stack.delivery.messageIds(emailAddress).includes(message.id)));
  });
});
