import { randomBytes } from 'node:crypto';

import { defaultPayloadConverter } from '@temporalio/common';
import Fastify, { type FastifyInstance } from 'fastify';

import { hasApiToken, matchesApiToken } from '../../src/api/api-token';
import { codecRoutes } from '../../src/codec/codec-routes';
import { deriveCodecSessionKey, signCodecSession } from '../../src/codec/codec-session';
import { EncryptionCodec } from '../../src/codec/encryption-codec';
import { parseKeyring } from '../../src/credentials/token-cipher';

const API_TOKEN = 'codec-login-test-api-token';
const UI_ORIGIN = 'http://localhost:8233';
const SESSION_SECONDS = 600;

describe('codec sign-in', () => {
  const codec = new EncryptionCodec(parseKeyring(`k1:${randomBytes(32).toString('base64')}`));
  let nowMs = Date.UTC(2026, 0, 1);
  let app: FastifyInstance;
  let baseUrl: string;
  let encryptedBody: string;

  beforeAll(async () => {
    app = Fastify();
    await app.register(codecRoutes, {
      prefix: '/codec',
      codec,
      authorize: hasApiToken(API_TOKEN),
      allowedOrigins: [UI_ORIGIN],
      login: { checkToken: matchesApiToken(API_TOKEN), sessionKey: deriveCodecSessionKey(API_TOKEN), sessionSeconds: SESSION_SECONDS, now: () => nowMs },
    });
    const address = await app.listen({ host: '127.0.0.1', port: 0 });
    baseUrl = `${address}/codec`;

    const [encrypted] = await codec.encode([defaultPayloadConverter.toPayload({ subject: 'secret subject' })]);
    encryptedBody = JSON.stringify({
      payloads: [
        {
          metadata: Object.fromEntries(Object.entries(encrypted.metadata ?? {}).map(([key, value]) => [key, Buffer.from(value ?? []).toString('base64')])),
          data: Buffer.from(encrypted.data ?? []).toString('base64'),
        },
      ],
    });
  });

  afterAll(() => app.close());

  const signIn = (token: string) =>
    fetch(`${baseUrl}/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token }).toString(),
    });

  const decode = (cookie?: string) =>
    fetch(`${baseUrl}/decode`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: UI_ORIGIN, 'x-namespace': 'default', ...(cookie ? { cookie } : {}) },
      body: encryptedBody,
    });

  /** The name=value part of the Set-Cookie header of a sign-in response. */
  const sessionCookieOf = (response: Response) => (response.headers.get('set-cookie') ?? '').split(';')[0];

  it('serves a sign-in form', async () => {
    const response = await fetch(`${baseUrl}/login`);

    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/html');
    expect(await response.text()).toContain('<form method="post" action="login">');
  });

  it('rejects a wrong token without a cookie', async () => {
    const response = await signIn('not-the-api-token');

    expect(response.status).toBe(401);
    expect(response.headers.get('set-cookie')).toBeNull();
  });

  it('rejects decode without credentials', async () => {
    const response = await decode();

    expect(response.status).toBe(401);
    expect(((await response.json()) as { message: string }).message).toContain('/codec/login');
  });

  it('decodes for a signed-in browser', async () => {
    const login = await signIn(API_TOKEN);
    const setCookie = login.headers.get('set-cookie') ?? '';

    expect(login.status).toBe(200);
    expect(setCookie).toMatch(/^gmail_sync_codec=\d+\.[A-Za-z0-9_-]{43}; /);
    expect(setCookie).toContain('Path=/codec');
    expect(setCookie).toContain('HttpOnly');
    expect(setCookie).toContain('SameSite=Strict');
    expect(setCookie).toContain(`Max-Age=${SESSION_SECONDS}`);
    expect(setCookie).not.toContain(API_TOKEN);

    const response = await decode(sessionCookieOf(login));
    expect(response.status).toBe(200);
    expect(response.headers.get('access-control-allow-origin')).toBe(UI_ORIGIN);
    expect(response.headers.get('access-control-allow-credentials')).toBe('true');
    const [payload] = ((await response.json()) as { payloads: { data: string }[] }).payloads;
    expect(JSON.parse(Buffer.from(payload.data, 'base64').toString('utf8'))).toEqual({ subject: 'secret subject' });
  });

  it('rejects an expired session', async () => {
    const cookie = sessionCookieOf(await signIn(API_TOKEN));
    nowMs += (SESSION_SECONDS + 1) * 1000;

    try {
      expect((await decode(cookie)).status).toBe(401);
    } finally {
      nowMs -= (SESSION_SECONDS + 1) * 1000;
    }
  });

  it('rejects a session with a changed expiry', async () => {
    const [name, value] = sessionCookieOf(await signIn(API_TOKEN)).split('=');
    const [expiresAt, signature] = value.split('.');

    expect((await decode(`${name}=${Number(expiresAt) + 86400}.${signature}`)).status).toBe(401);
  });

  it('rejects a session signed for another API token', async () => {
    const foreign = signCodecSession(deriveCodecSessionKey('another-api-token'), Math.floor(nowMs / 1000), SESSION_SECONDS);

    expect((await decode(`gmail_sync_codec=${foreign}`)).status).toBe(401);
  });

  it('still decodes for the bearer token', async () => {
    const response = await fetch(`${baseUrl}/decode`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${API_TOKEN}` },
      body: encryptedBody,
    });

    expect(response.status).toBe(200);
  });
});
