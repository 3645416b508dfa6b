import { createPublicKey, generateKeyPairSync, randomBytes, verify } from 'node:crypto';

import { GMAIL_SCOPES } from './consent';
import { OAuthError } from './oauth-error';

/** `aud` that gtoken puts in every assertion, whichever endpoint it is sent to. */
const GOOGLE_TOKEN_AUDIENCE = 'https://oauth2.googleapis.com/token';

/** Google accepts assertions valid for at most an hour. */
const MAX_ASSERTION_LIFETIME_S = 3600;

/** A service account's public key and the scopes that domain-wide delegation grants it. */
export interface ServiceAccountRecord {
  clientEmail: string;
  keyId: string;
  publicKeyPem: string;
  scopes: string[];
}

/** A service account JSON key in the format that Google's console downloads. */
export interface ServiceAccountKey {
  type: 'service_account';
  project_id: string;
  private_key_id: string;
  private_key: string;
  client_email: string;
  client_id: string;
  token_uri: string;
}

/**
 * Service accounts with domain-wide delegation, for the token endpoint's
 * JWT-bearer grant (urn:ietf:params:oauth:grant-type:jwt-bearer). The
 * sandbox creates the key pair, hands out the private key once as a JSON key
 * file, and keeps only the public key to verify assertions.
 */
export class ServiceAccounts {
  readonly accounts = new Map<string, ServiceAccountRecord>();

  /** Creates a service account key; `scopes` defaults to both Gmail scopes. */
  create(input: { clientEmail?: string; scopes?: string[] }, tokenUri: string): ServiceAccountKey {
    const clientEmail = input.clientEmail ?? `sandbox-${randomBytes(4).toString('hex')}@gmail-sync-sandbox.iam.gserviceaccount.com`;
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const keyId = randomBytes(20).toString('hex');
    this.accounts.set(clientEmail, {
      clientEmail,
      keyId,
      publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
      scopes: input.scopes ?? GMAIL_SCOPES,
    });
    return {
      type: 'service_account',
      project_id: 'gmail-sync-sandbox',
      private_key_id: keyId,
      private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      client_email: clientEmail,
      client_id: randomBytes(10).toString('hex'),
      token_uri: tokenUri,
    };
  }

  /**
   * Verifies an RS256 assertion as Google's token endpoint does and returns
   * the impersonated address and the scope. `iss` must be a known service
   * account and `aud` Google's token URL or `tokenUrl`. The lifetime is at
   * most an hour on the wall clock, because the signer uses its own clock and
   * not the sandbox's. Every scope must be one that delegation grants, and
   * `sub` names the mailbox.
   */
  verifyAssertion(assertion: string, tokenUrl: string): { emailAddress: string; scope: string } {
    const [header, payload, signature] = assertion.split('.');
    if (signature === undefined) {
      throw new OAuthError('invalid_grant', 'Invalid JWT: Token must be a short-lived token and in a reasonable timeframe.');
    }
    const claims = parseSegment(payload) as { iss?: string; aud?: string; sub?: string; scope?: string; iat?: number; exp?: number };
    const account = this.accounts.get(claims.iss ?? '');
    if (!account || (parseSegment(header) as { alg?: string }).alg !== 'RS256') {
      throw new OAuthError('invalid_grant', 'Invalid JWT Signature.');
    }
    const signed = Buffer.from(`${header}.${payload}`);
    if (!verify('RSA-SHA256', signed, createPublicKey(account.publicKeyPem), Buffer.from(signature, 'base64url'))) {
      throw new OAuthError('invalid_grant', 'Invalid JWT Signature.');
    }
    if (claims.aud !== GOOGLE_TOKEN_AUDIENCE && claims.aud !== tokenUrl) {
      throw new OAuthError('invalid_grant', `Invalid JWT: audience ${String(claims.aud)} is not the token endpoint.`);
    }
    const now = Math.floor(Date.now() / 1000);
    if (typeof claims.iat !== 'number' || typeof claims.exp !== 'number' || claims.exp <= now || claims.iat > now + 60 || claims.exp - claims.iat > MAX_ASSERTION_LIFETIME_S) {
      throw new OAuthError('invalid_grant', 'Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe.');
    }
    const scopes = (claims.scope ?? '').split(' ').filter((scope) => scope !== '');
    if (scopes.length === 0 || !scopes.every((scope) => account.scopes.includes(scope))) {
      throw new OAuthError('unauthorized_client', 'Client is unauthorized to retrieve access tokens using this method, or client not authorized for any of the scopes requested.');
    }
    if (!claims.sub) {
      throw new OAuthError('invalid_request', 'The sandbox issues Gmail tokens only for an impersonated user: set sub to the mailbox address.');
    }
    return { emailAddress: claims.sub, scope: scopes.join(' ') };
  }
}

function parseSegment(segment: string | undefined): unknown {
  try {
    return JSON.parse(Buffer.from(segment ?? '', 'base64url').toString('utf8'));
  } catch {
    throw new OAuthError('invalid_grant', 'Invalid JWT: the assertion is not a JSON Web Token.');
  }
}
