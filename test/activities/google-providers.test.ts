/**
 * The oauth and workspace Gmail providers against the sandbox's token
 * endpoint and Gmail API, each failure checked through the error mapper the
 * activities use.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { SqliteRowStore } from '../../src/credentials/sqlite-store';
import { parseKeyring } from '../../src/credentials/token-cipher';
import { TokenStore } from '../../src/credentials/token-store';
import { callGmail } from '../../src/gmail';
import { createOAuthGmailProvider, type OAuthGmailProvider } from '../../src/gmail/oauth-provider';
import { createWorkspaceGmailProvider } from '../../src/gmail/workspace-provider';
import { startSandbox, type Sandbox } from '../../src/sandbox';
import { failureOf } from '../helpers/gmail-failure';

const READONLY = 'https://www.googleapis.com/auth/gmail.readonly';
const MODIFY = 'https://www.googleapis.com/auth/gmail.modify';

let sandbox: Sandbox;
const dir = mkdtempSync(path.join(os.tmpdir(), 'gmail-sync-providers-'));

beforeAll(async () => {
  sandbox = await startSandbox({ port: 0 });
});

afterAll(async () => {
  await sandbox.stop();
});

describe('oauth Gmail provider', () => {
  let tokens: TokenStore;
  let provider: OAuthGmailProvider;

  beforeAll(() => {
    tokens = new TokenStore(new SqliteRowStore(path.join(dir, 'tokens.sqlite')), parseKeyring(`k1:${randomBytes(32).toString('base64')}`));
    provider = createOAuthGmailProvider({ tokens, clientId: 'client', clientSecret: 'secret', tokenUrl: sandbox.tokenUrl, gmailApiUrl: `${sandbox.url}/` });
  });

  afterAll(async () => {
    await tokens.close();
  });

  const profile = (emailAddress: string) => {
    const gmail = provider.client(emailAddress, { provider: 'oauth' });
    return callGmail('getProfile', () => gmail.users.getProfile({ userId: 'me' }));
  };

  it('calls Gmail with the stored refresh token', async () => {
    await tokens.put('stored@example.com', { refreshToken: sandbox.refreshTokenFor('stored@example.com'), scope: READONLY });

    const response = await profile('Stored@Example.com');

    expect(response.data.emailAddress).toBe('stored@example.com');
  });

  it('maps invalid_grant from the token endpoint to AuthRevoked', async () => {
    await tokens.put('revoked@example.com', { refreshToken: sandbox.refreshTokenFor('revoked@example.com'), scope: READONLY });
    sandbox.updateMailbox('revoked@example.com', { invalidGrant: true });

    const failure = await failureOf(profile('revoked@example.com'));

    expect(failure.type).toBe('AuthRevoked');
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toContain('invalid_grant');
  });

  it('maps a missing stored token to AuthRevoked', async () => {
    const failure = await failureOf(profile('never-consented@example.com'));

    expect(failure.type).toBe('AuthRevoked');
    expect(failure.message).toContain('POST /v1/oauth/links {"emailAddress":"never-consented@example.com"}');
  });

  it('uses a new token after a revoked one', async () => {
    await tokens.put('renewed@example.com', { refreshToken: 'revoked-refresh-token', scope: READONLY });
    expect((await failureOf(profile('renewed@example.com'))).type).toBe('AuthRevoked');

    await tokens.put('renewed@example.com', { refreshToken: sandbox.refreshTokenFor('renewed@example.com'), scope: READONLY });
    const response = await profile('renewed@example.com');

    expect(response.data.emailAddress).toBe('renewed@example.com');
  });

  it('reads the stored token again at refresh', async () => {
    await tokens.put('rotating@example.com', { refreshToken: sandbox.refreshTokenFor('rotating@example.com'), scope: READONLY });
    expect((await profile('rotating@example.com')).data.emailAddress).toBe('rotating@example.com');

    // Another process stores a new token; the cached access token expires on the sandbox's clock only,
    // so the next call gets 401 and refreshes with whatever the store holds now.
    await tokens.put('rotating@example.com', { refreshToken: sandbox.refreshTokenFor('replacement@example.com'), scope: READONLY });
    sandbox.advanceClock(2 * 3600_000);
    const response = await profile('rotating@example.com');

    expect(response.data.emailAddress).toBe('replacement@example.com');
  });
});

describe('workspace Gmail provider', () => {
  function keyFile(scopes?: string[]): string {
    const file = path.join(dir, `key-${randomBytes(4).toString('hex')}.json`);
    writeFileSync(file, JSON.stringify(sandbox.createServiceAccount({ scopes }, sandbox.tokenUrl)));
    return file;
  }

  const profile = (file: string, scope: string, emailAddress: string) => {
    const provider = createWorkspaceGmailProvider({ keyFile: file, scope, tokenUrl: sandbox.tokenUrl, gmailApiUrl: `${sandbox.url}/` });
    const gmail = provider.client(emailAddress, { provider: 'workspace' });
    return callGmail('getProfile', () => gmail.users.getProfile({ userId: 'me' }));
  };

  it('impersonates the mailbox through the JWT grant', async () => {
    const response = await profile(keyFile(), READONLY, 'delegated@example.com');

    expect(response.data.emailAddress).toBe('delegated@example.com');
  });

  it('maps invalid_grant to AuthRevoked', async () => {
    sandbox.updateMailbox('suspended@example.com', { invalidGrant: true });

    const failure = await failureOf(profile(keyFile(), READONLY, 'suspended@example.com'));

    expect(failure.type).toBe('AuthRevoked');
  });

  it('fails for a scope that delegation does not grant', async () => {
    const failure = await failureOf(profile(keyFile([READONLY]), MODIFY, 'modify@example.com'));

    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toContain('unauthorized_client');
  });

  it('rejects an assertion signed by an unknown key', async () => {
    const key = JSON.parse(readFileSync(keyFile(), 'utf8')) as Record<string, string>;
    const otherKey = JSON.parse(readFileSync(keyFile(), 'utf8')) as Record<string, string>;
    const forged = path.join(dir, 'forged.json');
    writeFileSync(forged, JSON.stringify({ ...key, private_key: otherKey.private_key }));

    const failure = await failureOf(profile(forged, READONLY, 'forged@example.com'));

    expect(failure.message).toContain('invalid_grant');
  });
});
