import { startSandbox, type Sandbox } from '../../src/sandbox';
import invalidGrantFixture from '../fixtures/gmail/token-invalid-grant.json';
import { gmailClient, gmailFailure, sandboxOAuthClient } from './helpers';

describe('Gmail sandbox token endpoint', () => {
  let sandbox: Sandbox;

  beforeAll(async () => {
    sandbox = await startSandbox();
  });

  afterAll(async () => {
    await sandbox.stop();
  });

  it('issues a Bearer token for a sandbox refresh token', async () => {
    const response = await fetch(sandbox.tokenUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: 'sandbox-refresh:new@example.com', client_id: 'x', client_secret: 'y' }),
    });
    const body = (await response.json()) as Record<string, unknown>;

    expect(response.status).toBe(200);
    expect(Object.keys(body).sort()).toEqual(['access_token', 'expires_in', 'scope', 'token_type']);
    expect(body.token_type).toBe('Bearer');
    expect(body.expires_in).toBe(3599);
    expect(sandbox.getMailbox('new@example.com').emailAddress).toBe('new@example.com');
  });

  it('surfaces invalid_grant through google-auth-library', async () => {
    sandbox.updateMailbox('revoked@example.com', { invalidGrant: true });
    const auth = sandboxOAuthClient(sandbox);
    auth.setCredentials({ refresh_token: sandbox.refreshTokenFor('revoked@example.com') });

    const failure = await gmailFailure(auth.getAccessToken());

    expect(failure.status).toBe(400);
    expect(failure.body).toEqual(invalidGrantFixture);
  });

  it('surfaces invalid_grant through the Gmail client', async () => {
    sandbox.updateMailbox('revoked2@example.com', { invalidGrant: true });
    const failure = await gmailFailure(gmailClient(sandbox, 'revoked2@example.com').users.getProfile({ userId: 'me' }));

    expect(failure.status).toBe(400);
    expect((failure.body as { error: string }).error).toBe('invalid_grant');
  });

  it.each([
    [{ grant_type: 'refresh_token', refresh_token: 'some-google-token' }, 'invalid_grant'],
    [{ grant_type: 'authorization_code', code: 'x' }, 'invalid_client'],
    [{}, 'unsupported_grant_type'],
  ])('rejects %j with %s', async (form, error) => {
    const response = await fetch(sandbox.tokenUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(form),
    });

    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: string }).error).toBe(error);
  });

  it('Gmail routes answer 401 when told to', async () => {
    const gmail = gmailClient(sandbox, 'blocked@example.com');
    await gmail.users.getProfile({ userId: 'me' });
    sandbox.updateMailbox('blocked@example.com', { rejectAccessTokens: true });

    const failure = await gmailFailure(gmail.users.getProfile({ userId: 'me' }));

    expect(failure.status).toBe(401);
    expect(failure.body).toMatchObject({ error: { code: 401, status: 'UNAUTHENTICATED', errors: [{ reason: 'authError' }] } });
  });

  it('Gmail routes answer 401 without a token and after expiry', async () => {
    const missing = await fetch(`${sandbox.url}/gmail/v1/users/me/profile`);
    const tokenResponse = await fetch(sandbox.tokenUrl, {
      method: 'POST',
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: sandbox.refreshTokenFor('expiring@example.com') }),
    });
    const { access_token: accessToken } = (await tokenResponse.json()) as { access_token: string };
    const headers = { authorization: `Bearer ${accessToken}` };
    const fresh = await fetch(`${sandbox.url}/gmail/v1/users/me/profile`, { headers });
    sandbox.advanceClock(3600_000);
    const expired = await fetch(`${sandbox.url}/gmail/v1/users/me/profile`, { headers });

    expect(missing.status).toBe(401);
    expect(fresh.status).toBe(200);
    expect(expired.status).toBe(401);
  });
});
