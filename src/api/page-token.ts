/**
 * Page tokens of the routes that page through Temporal visibility. Temporal's visibility page token is
 * opaque, and the dev server returns UNKNOWN for a forged one, which the
 * client retries for about 20 seconds before the call fails. So the API hands
 * out Temporal's token with an HMAC-SHA256 tag and rejects any token whose tag
 * does not match before it reaches Temporal. The key derives from the API
 * token, so every API instance that shares the token accepts the others'
 * page tokens.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

import { ApiError } from './errors';

/** Bytes of the HMAC tag kept in a token; 16 bytes (128 bits) make a forgery impractical. */
const TAG_BYTES = 16;

/** Derives the page token key from the API token, so the key itself is never configured or logged. */
export function derivePageTokenKey(apiToken: string): Buffer {
  return createHmac('sha256', apiToken).update('gmail-sync page token v1').digest();
}

function tag(key: Buffer, token: Buffer): Buffer {
  return createHmac('sha256', key).update(token).digest().subarray(0, TAG_BYTES);
}

/** Encodes Temporal's page token as `<base64url token>.<base64url tag>`. */
export function signPageToken(key: Buffer, token: Uint8Array): string {
  const bytes = Buffer.from(token);
  return `${bytes.toString('base64url')}.${tag(key, bytes).toString('base64url')}`;
}

/** Returns Temporal's page token from a token that signPageToken issued, or undefined for any other string. */
export function verifyPageToken(key: Buffer, pageToken: string): Buffer | undefined {
  const match = /^([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)$/.exec(pageToken);
  if (match === null) {
    return undefined;
  }
  const token = Buffer.from(match[1], 'base64url');
  const receivedTag = Buffer.from(match[2], 'base64url');
  const expectedTag = tag(key, token);
  if (token.toString('base64url') !== match[1] || receivedTag.length !== expectedTag.length || !timingSafeEqual(receivedTag, expectedTag)) {
    return undefined;
  }
  return token;
}

/**
 * Returns Temporal's page token for a route's `pageToken` query parameter, or
 * undefined for the first page. Throws INVALID_REQUEST for a token this API did
 * not issue, so it never reaches Temporal.
 */
export function requirePageToken(key: Buffer, pageToken: string | undefined): Buffer | undefined {
  if (pageToken === undefined) {
    return undefined;
  }
  const token = verifyPageToken(key, pageToken);
  if (token === undefined) {
    throw ApiError.of('INVALID_REQUEST', {
      problem: 'querystring.pageToken is not a nextPageToken returned by this route; omit it to start from the first page',
    });
  }
  return token;
}
