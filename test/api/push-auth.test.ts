import http from 'node:http';
import type { AddressInfo } from 'node:net';

import { CertificatesUnavailableError, PushTokenVerifier } from '../../src/api/push-auth';
import { PUSH_AUDIENCE, PUSH_SERVICE_ACCOUNT, startOidcIssuer, type OidcIssuer } from './helpers/oidc';

describe('PushTokenVerifier', () => {
  let issuer: OidcIssuer;
  let verifier: PushTokenVerifier;

  beforeAll(async () => {
    issuer = await startOidcIssuer();
  });

  beforeEach(() => {
    verifier = new PushTokenVerifier({
      audience: PUSH_AUDIENCE,
      serviceAccountEmail: PUSH_SERVICE_ACCOUNT,
      certsUrl: issuer.certsUrl,
      certsCacheSeconds: 3600,
    });
  });

  afterAll(async () => {
    await issuer?.close();
  });

  it('accepts a token from the push service account', async () => {
    const result = await verifier.verify(`Bearer ${issuer.sign()}`);

    expect(result).toEqual({ ok: true, email: PUSH_SERVICE_ACCOUNT });
  });

  it.each([
    ['no header', () => undefined, 'token_missing'],
    ['an empty header', () => '', 'token_missing'],
    ['a Basic header', () => 'Basic dXNlcjpwYXNz', 'token_malformed'],
    ['a token that is not a JWT', () => 'Bearer not-a-jwt', 'token_malformed'],
    ['an HS256 token', () => `Bearer ${issuer.sign().replace(/^[^.]+/, Buffer.from('{"alg":"HS256","kid":"x"}').toString('base64url'))}`, 'token_malformed'],
    ['an unknown key id', () => `Bearer ${issuer.sign({}, { kid: 'unknown-kid' })}`, 'unknown_signing_key'],
    ['a signature by another key', () => `Bearer ${issuer.sign({}, { key: issuer.foreignKey })}`, 'invalid_signature'],
    ['an expired token', () => `Bearer ${issuer.sign({ iat: Math.floor(Date.now() / 1000) - 7200, exp: Math.floor(Date.now() / 1000) - 3600 })}`, 'token_expired'],
  ])('rejects %s with 401', async (_name, header, reason) => {
    const result = await verifier.verify(header());

    expect(result).toEqual({ ok: false, status: 401, reason });
  });

  it.each([
    ['another audience', { aud: 'https://other.example.com/push' }, 'wrong_audience'],
    ['another issuer', { iss: 'https://issuer.example.com' }, 'wrong_issuer'],
    ['another service account', { email: 'intruder@other-project.iam.gserviceaccount.com' }, 'wrong_email'],
    ['an unverified email', { email_verified: false }, 'email_not_verified'],
  ])('rejects a genuine token for %s with 403', async (_name, claims, reason) => {
    const result = await verifier.verify(`Bearer ${issuer.sign(claims)}`);

    expect(result).toEqual({ ok: false, status: 403, reason });
  });

  it('fetches the certificates once for many tokens', async () => {
    const before = issuer.fetches();

    for (let i = 0; i < 5; i++) {
      expect((await verifier.verify(`Bearer ${issuer.sign()}`)).ok).toBe(true);
    }

    expect(issuer.fetches() - before).toBe(1);
  });

  it('rejects a cached token once it expires', async () => {
    const header = `Bearer ${issuer.sign({ exp: Math.floor(Date.now() / 1000) + 60 })}`;
    expect((await verifier.verify(header)).ok).toBe(true);
    // Only Date moves: past exp and google-auth-library's five-minute clock skew.
    jest.useFakeTimers({
      now: Date.now() + 61_000 + 300_000 + 1_000,
      doNotFake: ['nextTick', 'setImmediate', 'clearImmediate', 'setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'queueMicrotask', 'performance', 'hrtime'],
    });

    try {
      const result = await verifier.verify(header);

      expect(result).toEqual({ ok: false, status: 401, reason: 'token_expired' });
    } finally {
      jest.useRealTimers();
    }
  });

  it('refetches the certificates for a rotated key', async () => {
    expect((await verifier.verify(`Bearer ${issuer.sign()}`)).ok).toBe(true);
    issuer.addKey('rotated-kid');
    jest.spyOn(Date, 'now').mockReturnValue(Date.now() + 60_000);

    try {
      const result = await verifier.verify(`Bearer ${issuer.sign({}, { kid: 'rotated-kid' })}`);

      expect(result.ok).toBe(true);
    } finally {
      jest.restoreAllMocks();
    }
  });

  it('throws CertificatesUnavailableError when the certificates cannot be fetched', async () => {
    const failing = http.createServer((_request, response) => {
      response.writeHead(500).end();
    });
    await new Promise<void>((resolve) => failing.listen(0, '127.0.0.1', resolve));
    const { port } = failing.address() as AddressInfo;
    const unreachable = new PushTokenVerifier({
      audience: PUSH_AUDIENCE,
      serviceAccountEmail: PUSH_SERVICE_ACCOUNT,
      certsUrl: `http://127.0.0.1:${port}/oauth2/v1/certs`,
      certsCacheSeconds: 3600,
    });

    try {
      await expect(unreachable.verify(`Bearer ${issuer.sign()}`)).rejects.toBeInstanceOf(CertificatesUnavailableError);
    } finally {
      await new Promise((resolve) => failing.close(resolve));
    }
  });
});
