/**
 * The consent routes against careless and hostile callers: link creation
 * without the API token, starts without a valid consent link, repeated or
 * missing query parameters, and a callback URL opened twice. The consent
 * flow talks to the Gmail sandbox's authorization and token endpoints over HTTP.
 */
import { randomBytes } from 'node:crypto';

import { ConsentFlow } from '../../src/api/oauth/consent-flow';
import { deriveLinkKeyring, deriveStateKeyring } from '../../src/api/oauth/oauth-state';
import type { ApiServer } from '../../src/api/server';
import { GMAIL_SCOPES } from '../../src/credentials/credential-settings';
import { startSandbox, type Sandbox } from '../../src/sandbox';
import { API_TOKEN, startApiHarness, type ApiHarness } from './helpers/api-harness';

const CLIENT = { clientId: 'oauth-input-client', clientSecret: 'oauth-input-client-secret-value' };
// Never fetched: the test reads the sandbox's redirect and hands its query to the API.
const REDIRECT_URL = 'http://127.0.0.1:9/v1/oauth/callback';
const json = { accept: 'application/json' };

describe('consent routes with bad input', () => {
  let harness: ApiHarness;
  let sandbox: Sandbox;
  let api: ApiServer;
  let consentFlow: ConsentFlow;
  const stored = new Map<string, string>();

  beforeAll(async () => {
    harness = await startApiHarness();
    sandbox = await startSandbox();
    sandbox.registerOAuthClient({ ...CLIENT, redirectUris: [REDIRECT_URL] });
    const tokenKeys = { activeKeyId: 'k1', keys: { k1: randomBytes(32) } };
    consentFlow = new ConsentFlow({
      ...CLIENT,
      redirectUrl: REDIRECT_URL,
      authUrl: sandbox.authUrl,
      tokenUrl: sandbox.tokenUrl,
      gmailApiUrl: `${sandbox.url}/`,
      scope: GMAIL_SCOPES.readonly,
      stateKeyring: deriveStateKeyring(tokenKeys),
      stateTtlSeconds: 600,
      linkKeyring: deriveLinkKeyring(tokenKeys),
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

  /** Creates a consent link with the API token and returns its path and query. */
  async function linkFor(emailAddress: string, server: ApiServer = api): Promise<string> {
    const response = await server.app.inject({ method: 'POST', url: '/v1/oauth/links', headers: { authorization: `Bearer ${API_TOKEN}` }, payload: { emailAddress } });
    expect(response.statusCode).toBe(201);
    const url = new URL(response.json<{ url: string }>().url);
    return `${url.pathname}${url.search}`;
  }

  /** Starts the consent with a query, asking for JSON. */
  function start(query: string, server: ApiServer = api) {
    return server.app.inject({ method: 'GET', url: `/v1/oauth/start?${query}`, headers: json });
  }

  /** Runs the consent link, /v1/oauth/start and the sandbox's consent, and returns the callback path with Google's query. */
  async function consentFor(emailAddress: string): Promise<string> {
    const start = await api.app.inject({ method: 'GET', url: await linkFor(emailAddress) });
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

  it('creates a link only with the API token', async () => {
    const response = await api.app.inject({ method: 'POST', url: '/v1/oauth/links', headers: json, payload: { emailAddress: 'stranger@example.org' } });

    expect(response.statusCode).toBe(401);
    expect(response.json()).toMatchObject({ code: 'API_TOKEN_MISSING' });
  });

  it('returns the link with its address and expiry', async () => {
    const before = Date.now();
    const response = await api.app.inject({
      method: 'POST',
      url: '/v1/oauth/links',
      headers: { authorization: `Bearer ${API_TOKEN}` },
      payload: { emailAddress: 'Linked.User@Example.com', expiresInSeconds: 3600 },
    });
    const body = response.json<{ url: string; emailAddress: string; expiresAt: string }>();
    const url = new URL(body.url);

    expect(response.statusCode).toBe(201);
    expect(body.emailAddress).toBe('linked.user@example.com');
    expect(`${url.origin}${url.pathname}`).toBe('http://127.0.0.1:9/v1/oauth/start');
    expect(url.searchParams.get('emailAddress')).toBe('Linked.User@Example.com');
    expect(url.searchParams.get('link')).toMatch(/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+){3}$/);
    expect(Date.parse(body.expiresAt) - before).toBeGreaterThanOrEqual(3600_000);
    expect(Date.parse(body.expiresAt) - before).toBeLessThan(3660_000);
  });

  it('lists the link route in OpenAPI', async () => {
    const document = (await api.app.inject({ method: 'GET', url: '/openapi.json' })).json<{ paths: Record<string, Record<string, { security?: unknown }>> }>();

    expect(document.paths['/v1/oauth/links']?.post?.security).toEqual([{ apiToken: [] }]);
  });

  it.each([
    ['a string lifetime', { emailAddress: 'a@example.com', expiresInSeconds: '3600' }, 'expiresInSeconds'],
    ['a lifetime past 30 days', { emailAddress: 'a@example.com', expiresInSeconds: 31 * 24 * 3600 }, 'expiresInSeconds'],
    ['an unknown field', { emailAddress: 'a@example.com', topicName: 'projects/p/topics/t' }, 'topicName'],
    ['a bad address', { emailAddress: 'not-an-address' }, 'not-an-address'],
  ])('rejects a link request with %s', async (_case, payload, named) => {
    const response = await api.app.inject({ method: 'POST', url: '/v1/oauth/links', headers: { authorization: `Bearer ${API_TOKEN}` }, payload });

    expect(response.statusCode).toBe(400);
    expect(response.json<{ message: string }>().message).toContain(named);
  });

  it('rejects a start without link', async () => {
    const response = await api.app.inject({ method: 'GET', url: '/v1/oauth/start?emailAddress=stranger@example.org', headers: { accept: 'text/html' } });

    expect(response.statusCode).toBe(403);
    expect(response.headers['content-type']).toContain('text/html');
    expect(response.body).toContain('OAUTH_LINK_MISSING');
    expect(response.body).toContain('ask your operator for a consent link; operators create one with POST /v1/oauth/links');
  });

  it('rejects a forged link', async () => {
    const link = new URLSearchParams((await linkFor('forged-link@example.com')).split('?')[1]).get('link')!;
    const forged = `${link.slice(0, -4)}AAAA`;

    const response = await start(`emailAddress=forged-link@example.com&link=${forged}`);

    expect(response.statusCode).toBe(403);
    expect(response.json()).toMatchObject({ code: 'OAUTH_LINK_INVALID' });
    expect(response.json<{ message: string }>().message).toContain('not issued by this server');
  });

  it('rejects a state passed as link', async () => {
    const state = new URL(await consentFor('state-as-link@example.com'), 'http://x').searchParams.get('state')!;

    const response = await start(`emailAddress=state-as-link@example.com&link=${state}`);

    expect(response.statusCode).toBe(403);
    expect(response.json()).toMatchObject({ code: 'OAUTH_LINK_INVALID' });
  });

  it('rejects an expired link', async () => {
    const expired = consentFlow.createLink('late@example.com', 60, Date.now() - 120_000);

    const response = await start(new URL(expired.url).search.slice(1));

    expect(response.statusCode).toBe(403);
    expect(response.json()).toMatchObject({ code: 'OAUTH_LINK_EXPIRED' });
    expect(response.json<{ message: string }>().message).toContain(new Date(expired.expiresAt).toISOString());
  });

  it('rejects a link for another address', async () => {
    const link = new URLSearchParams((await linkFor('alice@example.com')).split('?')[1]).get('link')!;

    const response = await start(`emailAddress=mallory@example.com&link=${link}`);

    expect(response.statusCode).toBe(403);
    expect(response.json()).toMatchObject({ code: 'OAUTH_LINK_INVALID' });
    expect(response.json<{ message: string }>().message).toContain('it was issued for alice@example.com');
  });

  it('accepts a link in another letter case', async () => {
    const link = new URLSearchParams((await linkFor('Case@Example.com')).split('?')[1]).get('link')!;

    const response = await start(`emailAddress=case@example.com&link=${link}`);

    expect(response.statusCode).toBe(302);
  });

  it('rejects link and start without a watch topic', async () => {
    const noTopic = await harness.startApi({ consentFlow, mailboxDefaults: { credential: { provider: 'oauth' } } });
    const link = consentFlow.createLink('no-topic@example.com', 600);

    const created = await noTopic.app.inject({ method: 'POST', url: '/v1/oauth/links', headers: { authorization: `Bearer ${API_TOKEN}` }, payload: { emailAddress: 'no-topic@example.com' } });
    const started = await start(new URL(link.url).search.slice(1), noTopic);

    expect(created.statusCode).toBe(503);
    expect(created.json()).toMatchObject({ code: 'WATCH_TOPIC_NOT_CONFIGURED' });
    expect(created.json<{ message: string }>().message).toContain('set GMAIL_SYNC_WATCH_TOPIC');
    expect(started.statusCode).toBe(503);
    expect(started.json()).toMatchObject({ code: 'WATCH_TOPIC_NOT_CONFIGURED' });
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
