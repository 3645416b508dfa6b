import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';

import { createSelfSignedCertificate } from './x509';

/**
 * The RS256 key that signs push tokens, with its certificates in Google's two
 * published formats: a kid -> PEM certificate map (`/oauth2/v1/certs`, what
 * google-auth-library's verifyIdToken fetches by default) and a JWK set
 * (`/oauth2/v3/certs`).
 */
export class SigningKey {
  readonly kid: string;
  private readonly certificate: string;

  constructor(private readonly privateKey: KeyObject) {
    const spki = createPublicKey(privateKey).export({ type: 'spki', format: 'der' });
    this.kid = createHash('sha256').update(spki).digest('hex').slice(0, 40);
    // Google rotates its certificates every few weeks; two weeks from start is
    // enough for a dev session, and a restart issues a fresh certificate.
    const now = Date.now();
    this.certificate = createSelfSignedCertificate(privateKey, 'gmail-sandbox', new Date(now - 3_600_000), new Date(now + 14 * 86_400_000));
  }

  static generate(): SigningKey {
    return new SigningKey(generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey);
  }

  static fromPem(pem: string): SigningKey {
    return new SigningKey(createPrivateKey(pem));
  }

  toPem(): string {
    return this.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  }

  pemCertificates(): Record<string, string> {
    return { [this.kid]: this.certificate };
  }

  jwks(): { keys: Record<string, unknown>[] } {
    const jwk = createPublicKey(this.privateKey).export({ format: 'jwk' });
    return { keys: [{ ...jwk, kid: this.kid, alg: 'RS256', use: 'sig' }] };
  }

  /** Signs a JWT with header `{alg: 'RS256', kid, typ: 'JWT'}`. */
  signJwt(claims: Record<string, unknown>): string {
    const header = { alg: 'RS256', kid: this.kid, typ: 'JWT' };
    const signingInput = `${base64url(header)}.${base64url(claims)}`;
    const signature = sign('sha256', Buffer.from(signingInput), this.privateKey).toString('base64url');
    return `${signingInput}.${signature}`;
  }
}

function base64url(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}
