import { createHash, randomBytes } from 'node:crypto';

import { startSandbox, type Sandbox } from '../../src/sandbox';

const CLIENT = { clientId: 'consent-test-client', clientSecret: 'consent-test-secret', redirectUris: ['http://127.0.0.1:9/callback'] };
const READONLY = 'https://www.googleapis.com/auth/gmail.readonly';

describe('Gmail sandbox consent', () => {
  let sandbox: Sandbox;

  beforeAll(async () => {
    sandbox = await startSandbox({ port: 0 });
    sandbox.registerOAuthClient(CLIENT);
  });

  afterAll(async () => {
    await sandbox.stop();
  });

  function authorizeUrl(overrides: Record<string, string | undefined> = {}, verifier = 'v'.repeat(43)): string {
    const params: Record<string, string | undefined> = {
      client_id: CLIENT.clientId,
      redirect_uri: CLIENT.redirectUris[0],
      response_type: 'code',
      scope: READONLY,
      access_type: 'offline',
      code_challenge: createHash('sha256').update(verifier).digest('base64url'),
      code_challenge_method: 'S256',
      login_hint: 'consenting@example.com',
      state: 'opaque-state',
      ...overrides,
    };
    const defined = Object.entries(params).filter((entry): entry is [string, string] => entry[1] !== undefined);
    return `${sandbox.authUrl}?${new URLSearchParams(defined).toString()}`;
  }

  async function authorize(url: string): Promise<{ status: number; location: URL | undefined; body: string }> {
    const response = await fetch(url, { redirect: 'manual' });
    const location = response.headers.get('location');
    return { status: response.status, location: location ? new URL(location) : undefined, body: await response.text() };
  }

  async function exchange(form: Record<string, string>): Promise<{ status: number; body: Record<string, string> }> {
    const response = await fetch(sandbox.tokenUrl, { method: 'POST', body: new URLSearchParams({ client_id: CLIENT.clientId, client_secret: CLIENT.clientSecret, ...form }) });
    return { status: response.status, body: (await response.json()) as Record<string, string> };
  }

  it('issues a code that PKCE exchanges for a refresh token', async () => {
    const verifier = randomBytes(32).toString('base64url');
    const { status, location } = await authorize(authorizeUrl({}, verifier));
    expect(status).toBe(302);
    expect(location?.searchParams.get('state')).toBe('opaque-state');

    const { body } = await exchange({ grant_type: 'authorization_code', code: location!.searchParams.get('code')!, code_verifier: verifier, redirect_uri: CLIENT.redirectUris[0] });

    expect(body.refresh_token).toMatch(/^1\/\/sandbox-/);
    const refreshed = await exchange({ grant_type: 'refresh_token', refresh_token: body.refresh_token });
    expect(refreshed.body.access_token).toMatch(/^ya29\./);
  });

  it('rejects a wrong code verifier', async () => {
    const { location } = await authorize(authorizeUrl());

    const { status, body } = await exchange({ grant_type: 'authorization_code', code: location!.searchParams.get('code')!, code_verifier: 'w'.repeat(43), redirect_uri: CLIENT.redirectUris[0] });

    expect(status).toBe(400);
    expect(body.error).toBe('invalid_grant');
  });

  it('issues no refresh token without offline access', async () => {
    const { location } = await authorize(authorizeUrl({ access_type: undefined }));

    const { body } = await exchange({ grant_type: 'authorization_code', code: location!.searchParams.get('code')!, code_verifier: 'v'.repeat(43), redirect_uri: CLIENT.redirectUris[0] });

    expect(body.access_token).toBeDefined();
    expect(body.refresh_token).toBeUndefined();
  });

  it.each([
    [{ client_id: 'unknown-client' }, 401, 'invalid_client'],
    [{ redirect_uri: 'http://127.0.0.1:9/elsewhere' }, 400, 'redirect_uri_mismatch'],
  ])('shows a page for %j', async (overrides, status, error) => {
    const response = await authorize(authorizeUrl(overrides));

    expect(response.status).toBe(status);
    expect((JSON.parse(response.body) as { error: string }).error).toBe(error);
  });

  it.each([
    ['no code_challenge', { code_challenge: undefined }, 'invalid_request'],
    ['the plain PKCE method', { code_challenge_method: 'plain' }, 'invalid_request'],
    ['no Gmail scope', { scope: 'openid email' }, 'invalid_scope'],
    ['the implicit flow', { response_type: 'token' }, 'unsupported_response_type'],
  ])('redirects with an error for %s', async (_case, overrides, error) => {
    const { location } = await authorize(authorizeUrl(overrides));

    expect(location?.searchParams.get('error')).toBe(error);
    expect(location?.searchParams.get('code')).toBeNull();
  });

  it('revokes issued tokens and their access tokens', async () => {
    const { location } = await authorize(authorizeUrl({ login_hint: 'revoke-me@example.com' }));
    const { body } = await exchange({ grant_type: 'authorization_code', code: location!.searchParams.get('code')!, code_verifier: 'v'.repeat(43), redirect_uri: CLIENT.redirectUris[0] });

    const revoked = await fetch(`${sandbox.url}/sandbox/mailboxes/revoke-me@example.com/revoke-consents`, { method: 'POST' });

    expect(await revoked.json()).toEqual({ revoked: 1 });
    const profile = await fetch(`${sandbox.url}/gmail/v1/users/me/profile`, { headers: { authorization: `Bearer ${body.access_token}` } });
    expect(profile.status).toBe(401);
    expect((await exchange({ grant_type: 'refresh_token', refresh_token: body.refresh_token })).body.error).toBe('invalid_grant');
  });
});
