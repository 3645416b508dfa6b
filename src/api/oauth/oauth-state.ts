/**
 * The signed values of the consent flow, sealed with AES-256-GCM so that they
 * need no server-side session and any API instance with the same keyring
 * accepts them:
 * - the `state` parameter carries the invited address, the PKCE code
 *   verifier and an expiry;
 * - a consent link token carries the invited address and an expiry.
 * Each kind has its own keys, derived from GMAIL_SYNC_TOKEN_KEYS with
 * HKDF-SHA256 under its own label, and its own additional authenticated
 * data, so neither kind passes as the other and neither key equals a key that
 * encrypts refresh tokens. Rotating the token keyring rotates them too: a
 * value sealed under a removed key fails as invalid.
 */
import { hkdfSync } from 'node:crypto';

import { decryptToken, encryptToken, type Keyring } from '../../credentials/token-cipher';

/** HKDF info of the state keys. */
export const OAUTH_STATE_KEY_LABEL = 'gmail-sync oauth state v1';

/** HKDF info of the consent link keys. */
export const OAUTH_LINK_KEY_LABEL = 'gmail-sync oauth consent link v1';

/** Additional authenticated data of each kind, so that no other ciphertext of the same keys opens as one. */
const STATE_AAD = 'oauth-state';
const LINK_AAD = 'oauth-consent-link';

export interface OAuthState {
  /** The address of the consent link that /v1/oauth/start accepted, lower-cased. */
  emailAddress: string;
  codeVerifier: string;
  /** Epoch milliseconds. */
  expiresAt: number;
}

export interface ConsentLink {
  /** The invited address, lower-cased. */
  emailAddress: string;
  /** Epoch milliseconds. */
  expiresAt: number;
}

/** The outcome of opening a sealed value; an expired one still carries its content, for the error message. */
export type SealedCheck<T> = { ok: true; value: T } | { ok: false; problem: 'invalid' } | { ok: false; problem: 'expired'; value: T };

/** Derives the state keyring: the same key ids, each key passed through HKDF with OAUTH_STATE_KEY_LABEL. */
export function deriveStateKeyring(tokenKeys: Keyring): Keyring {
  return deriveKeyring(tokenKeys, OAUTH_STATE_KEY_LABEL);
}

/** Derives the consent link keyring: the same key ids, each key passed through HKDF with OAUTH_LINK_KEY_LABEL. */
export function deriveLinkKeyring(tokenKeys: Keyring): Keyring {
  return deriveKeyring(tokenKeys, OAUTH_LINK_KEY_LABEL);
}

function deriveKeyring(tokenKeys: Keyring, label: string): Keyring {
  const keys = Object.fromEntries(Object.entries(tokenKeys.keys).map(([id, key]) => [id, Buffer.from(hkdfSync('sha256', key, Buffer.alloc(0), label, 32))]));
  return { activeKeyId: tokenKeys.activeKeyId, keys };
}

export function sealState(keyring: Keyring, state: OAuthState): string {
  return seal(keyring, STATE_AAD, state);
}

/** Opens a state: invalid when it is malformed, forged or sealed with a key the keyring lacks; expired past its expiry. */
export function openState(keyring: Keyring, raw: string | undefined, now: number = Date.now()): SealedCheck<OAuthState> {
  return open<OAuthState>(keyring, STATE_AAD, raw, now);
}

export function sealLink(keyring: Keyring, link: ConsentLink): string {
  return seal(keyring, LINK_AAD, link);
}

/** Opens a consent link token, with the same outcomes as openState. */
export function openLink(keyring: Keyring, raw: string | undefined, now: number = Date.now()): SealedCheck<ConsentLink> {
  return open<ConsentLink>(keyring, LINK_AAD, raw, now);
}

/** Encodes a value as `<key id>.<iv>.<ciphertext>.<tag>`, each part base64url, which needs no escaping in a URL. */
function seal(keyring: Keyring, aad: string, value: { expiresAt: number }): string {
  const sealed = encryptToken(keyring, aad, JSON.stringify(value));
  return [sealed.keyId, sealed.iv, sealed.ciphertext, sealed.tag].map((part) => Buffer.from(part).toString('base64url')).join('.');
}

function open<T extends { expiresAt: number }>(keyring: Keyring, aad: string, raw: string | undefined, now: number): SealedCheck<T> {
  const parts = (raw ?? '').split('.');
  if (parts.length !== 4) {
    return { ok: false, problem: 'invalid' };
  }
  const [keyId, iv, ciphertext, tag] = parts.map((part) => Buffer.from(part, 'base64url'));
  let value: T;
  try {
    if (keyring.keys[keyId.toString('utf8')] === undefined || iv.length !== 12 || tag.length !== 16) {
      return { ok: false, problem: 'invalid' };
    }
    value = JSON.parse(decryptToken(keyring, aad, { keyId: keyId.toString('utf8'), iv, ciphertext, tag })) as T;
  } catch {
    return { ok: false, problem: 'invalid' };
  }
  return value.expiresAt <= now ? { ok: false, problem: 'expired', value } : { ok: true, value };
}
