import type { SigningKey } from './signing-key';

export interface PushIdentity {
  audience: string;
  serviceAccountEmail: string;
}

/**
 * Creates the OIDC token that Pub/Sub attaches to an authenticated push. It is
 * issued by accounts.google.com for the subscription's audience, names the
 * service account in `email` and is valid for one hour.
 */
export function createPushToken(key: SigningKey, identity: PushIdentity, nowMs = Date.now()): string {
  const iat = Math.floor(nowMs / 1000);
  // Google puts the service account's numeric id in sub and azp; the sandbox
  // derives a stable stand-in from the email.
  const subject = [...identity.serviceAccountEmail].reduce((sum, char) => (sum * 31n + BigInt(char.charCodeAt(0))) % 10n ** 21n, 7n);
  return key.signJwt({
    iss: 'https://accounts.google.com',
    aud: identity.audience,
    azp: subject.toString(),
    sub: subject.toString(),
    email: identity.serviceAccountEmail,
    email_verified: true,
    iat,
    exp: iat + 3600,
  });
}
