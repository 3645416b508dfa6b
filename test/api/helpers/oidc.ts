/**
 * A local OIDC signer for push tests: an RSA key, a loopback HTTP server
 * that serves its public key as the PEM map Google publishes at
 * /oauth2/v1/certs, and a function that signs RS256 tokens with it.
 */
import { generateKeyPairSync, randomUUID, sign, type KeyObject } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export const PUSH_AUDIENCE = 'https://gmail-sync.test/pubsub/push';
export const PUSH_SERVICE_ACCOUNT = 'gmail-push@gmail-sync-test.iam.gserviceaccount.com';

export interface TokenClaims {
  iss?: string;
  aud?: string;
  email?: string;
  email_verified?: boolean;
  iat?: number;
  exp?: number;
  nbf?: number;
}

export interface OidcIssuer {
  certsUrl: string;
  /** How many times the certificates were fetched. */
  fetches(): number;
  sign(claims?: TokenClaims, options?: { kid?: string; key?: KeyObject }): string;
  /** A key that the certificate server does not publish. */
  foreignKey: KeyObject;
  /** Publishes a second key under `kid`, as a key rotation does. */
  addKey(kid: string): KeyObject;
  close(): Promise<void>;
}

function base64url(value: object): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

function newKey(): { privateKey: KeyObject; publicPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { privateKey, publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString() };
}

export async function startOidcIssuer(): Promise<OidcIssuer> {
  const primary = newKey();
  const primaryKid = randomUUID();
  const published: Record<string, string> = { [primaryKid]: primary.publicPem };
  const keys = new Map<string, KeyObject>([[primaryKid, primary.privateKey]]);
  let fetches = 0;

  const server = http.createServer((request, response) => {
    fetches += 1;
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(JSON.stringify(published));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    certsUrl: `http://127.0.0.1:${port}/oauth2/v1/certs`,
    fetches: () => fetches,
    foreignKey: newKey().privateKey,
    addKey(kid) {
      const key = newKey();
      published[kid] = key.publicPem;
      keys.set(kid, key.privateKey);
      return key.privateKey;
    },
    sign(claims = {}, options = {}) {
      const now = Math.floor(Date.now() / 1000);
      const kid = options.kid ?? primaryKid;
      const payload = {
        iss: 'https://accounts.google.com',
        aud: PUSH_AUDIENCE,
        azp: '1234567890',
        sub: '1234567890',
        email: PUSH_SERVICE_ACCOUNT,
        email_verified: true,
        iat: now,
        exp: now + 3600,
        ...claims,
      };
      const signingInput = `${base64url({ alg: 'RS256', kid, typ: 'JWT' })}.${base64url(payload)}`;
      const key = options.key ?? keys.get(kid) ?? primary.privateKey;
      return `${signingInput}.${sign('sha256', Buffer.from(signingInput), key).toString('base64url')}`;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
