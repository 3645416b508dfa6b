/**
 * The consent routes against careless and hostile browsers: repeated or
 * missing query parameters, and a callback URL opened twice. The consent
 * flow talks to the Gmail sandbox's authorization and token endpoints over HTTP.
 */
import { randomBytes } from 'node:crypto';

import { ConsentFlow } from '../../src/api/oauth/consent-flow';
import { deriveStateKeyring } from '../../src/api/oauth/oauth-state';
import type { ApiServer } from '../../src/api/server';
import { GMAIL_SCOPES } from '../../src/credentials/credential-settings';
import { startSandbox, type Sandbox } from '../../src/sandbox';
import { startApiHarness, type ApiHarness } from './helpers/api-harness';

const CLIENT = { clientId: 'oauth-input-client', clientSecret: 'oauth-input-client-secret-value' };
// Never fetched: the test reads the sandbox's redirect and hands its query to the API.
const REDIRECT_URL = 'http://127.0.0.1:9/v1/oauth/callback';
const json = { accept: 'application/json' };

describe('consent routes with bad input', () => {
  let harness: ApiHarness;
  let sandbox: Sandbox;
  let api: ApiServer;
  const stored = new Map<string, string>();

  beforeAll(async () => {
    harness = await startApiHarness();
    sandbox = await startSandbox();
    sandbox.registerOAuthClient({ ...CLIENT, redirectUris: [REDIRECT_URL] });
    const consentFlow = new ConsentFlow({
      ...CLIENT,
      redirectUrl: REDIRECT_URL,
      authUrl: sandbox.authUrl,
      tokenUrl: sandbox.tokenUrl,
      gmailApiUrl: `${sandbox.url}/`,
      scope: GMAIL_SCOPES.readonly,
      stateKeyring: deriveStateKeyring({ activeKeyId: 'k1', keys: { k1: randomBytes(32) } }),
      stateTtlSeconds: 600,
      tokens: {
        put: (emailAddress, grant) => {
          stored.set(emailAddress, grant.refreshToken);
          return Promise.resolve();
        },
      },
    });
    api = await harness.startApi({ consentFlow });
  });

  afterAll(async () => {
    await harness?.teardown();
    await sandbox?.stop();
  });

  /** Runs /v1/oauth/start and the sandbox's consent, and returns the callback path with Google's query. */
  async function consentFor(emailAddress: string): Promise<string> {
    const start = await api.app.inject({ method: 'GET', url: `/v1/oauth/start?emailAddress=${encodeURIComponent(emailAddress)}` });
    expect(start.statusCode).toBe(302);
    const consent = await fetch(start.headers.location as string, { redirect: 'manual' });
    const callback = new URL(consent.headers.get('location') ?? '');
    expect(callback.origin + callback.pathname).toBe(REDIRECT_URL);
    return `${callback.pathname}${callback.search}`;
  }

  it('rejects a repeated state with 400', async () => {
    const callback = await consentFor('repeated-state@example.com');
    const state = new URL(callback, 'http://x').searchParams.get('state') ?? '';

    const response = await api.app.inject({ method: 'GET', url: `${callback}&state=${encodeURIComponent(state)}`, headers: json });

    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({ code: 'INVALID_REQUEST' });
    expect(response.json<{ message: string }>().message).toContain('querystring.state');
    expect(stored.has('repeated-state@example.com')).toBe(false);
  });

  it('rejects a repeated code with 400', async () => {
    const callback = await consentFor('repeated-code@example.com');

    const response = await api.app.inject({ method: 'GET', url: `${callback}&code=another`, headers: json });

    expect(response.statusCode).toBe(400);
    expect(response.json<{ message: string }>().message).toContain('querystring.code');
  });

  it('rejects a start without address with 400', async () => {
    const response = await api.app.inject({ method: 'GET', url: '/v1/oauth/start', headers: json });

    expect(response.statusCode).toBe(400);
    expect(response.json<{ message: string }>().message).toContain('emailAddress');
    expect(response.json<{ message: string }>().message).not.toContain('""');
  });

  it('rejects two start addresses with 400', async () => {
    const response = await api.app.inject({ method: 'GET', url: '/v1/oauth/start?emailAddress=a@example.com&emailAddress=b@example.com', headers: json });

    expect(response.statusCode).toBe(400);
    expect(response.json<{ message: string }>().message).toContain('querystring.emailAddress');
    expect(response.json<{ message: string }>().message).not.toContain('""');
  });

  it('rejects a reused callback', async () => {
    const callback = await consentFor('twice@example.com');

    const first = await api.app.inject({ method: 'GET', url: callback, headers: json });
    const second = await api.app.inject({ method: 'GET', url: callback, headers: json });

    expect(first.statusCode).toBe(200);
    expect(first.json()).toMatchObject({ emailAddress: 'twice@example.com', outcome: 'started' });
    expect(second.statusCode).toBe(400);
    expect(second.json()).toMatchObject({ code: 'OAUTH_CODE_REJECTED' });
    const code = new URL(callback, 'http://x').searchParams.get('code') ?? '';
    expect(harness.logText()).not.toContain(code);
    expect(harness.logText()).not.toContain(stored.get('twice@example.com'));
  });
});
