import { createHmac, timingSafeEqual } from 'node:crypto';

/** Name of the cookie that /codec/login sets. */
export const CODEC_SESSION_COOKIE = 'gmail_sync_codec';

/** Lifetime of a codec session: one working day, after which the operator signs in again. */
export const CODEC_SESSION_SECONDS = 8 * 60 * 60;

/**
 * Derives the key that signs codec sessions from the API token, so that
 * replacing the API token ends every session.
 */
export function deriveCodecSessionKey(apiToken: string): Buffer {
  return createHmac('sha256', apiToken).update('gmail-sync codec session v1').digest();
}

function signature(key: Buffer, expiresAt: number): Buffer {
  return createHmac('sha256', key).update(`codec-session:${expiresAt}`).digest();
}

/** Returns a cookie value `<expiry in epoch seconds>.<base64url HMAC>` valid until nowSeconds + lifetimeSeconds. */
export function signCodecSession(key: Buffer, nowSeconds: number, lifetimeSeconds: number): string {
  const expiresAt = nowSeconds + lifetimeSeconds;
  return `${expiresAt}.${signature(key, expiresAt).toString('base64url')}`;
}

/** True when the value was signed with this key and has not expired. */
export function verifyCodecSession(key: Buffer, value: string, nowSeconds: number): boolean {
  const match = /^(\d{1,12})\.([A-Za-z0-9_-]{43})$/.exec(value);
  if (!match) {
    return false;
  }
  const expiresAt = Number(match[1]);
  const givenSignature = Buffer.from(match[2], 'base64url');
  return timingSafeEqual(givenSignature, signature(key, expiresAt)) && expiresAt > nowSeconds;
}

/** Returns the value of one cookie from a Cookie header, or undefined. */
export function readCookie(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const separator = part.indexOf('=');
    if (separator > 0 && part.slice(0, separator).trim() === name) {
      return part.slice(separator + 1).trim();
    }
  }
  return undefined;
}
