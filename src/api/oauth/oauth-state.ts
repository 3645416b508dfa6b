/**
 * The `state` parameter of the consent flow. It carries the requested
 * address, the PKCE code verifier and an expiry, encrypted and authenticated
 * with AES-256-GCM, so the callback needs no server-side session and any API
 * instance with the same keyring accepts it. The keys derive from
 * GMAIL_SYNC_TOKEN_KEYS with HKDF-SHA256 under the label below, so state
 * keys never equal the keys that encrypt refresh tokens, and rotating the
 * token keyring rotates them too (a state issued under a removed key fails
 * as invalid).
 */
import { hkdfSync } from 'node:crypto';

import { decryptToken, encryptToken, type Keyring } from '../../credentials/token-cipher';

/** HKDF info of the state keys. */
export const OAUTH_STATE_KEY_LABEL = 'gmail-sync oauth state v1';

/** Additional authenticated data of every state, so no other ciphertext of the same keys passes as one. */
const STATE_AAD = 'oauth-state';

export interface OAuthState {
  /** The address that /v1/oauth/start was called with, lower-cased. */
  emailAddress: string;
  codeVerifier: string;
  /** Epoch milliseconds. */
  expiresAt: number;
}

export type StateCheck = { ok: true; state: OAuthState } | { ok: false; problem: 'invalid' | 'expired' };

/** Derives the state keyring: the same key ids, each key passed through HKDF with OAUTH_STATE_KEY_LABEL. */
export function deriveStateKeyring(tokenKeys: Keyring): Keyring {
  const keys = Object.fromEntries(
    Object.entries(tokenKeys.keys).map(([id, key]) => [id, Buffer.from(hkdfSync('sha256', key, Buffer.alloc(0), OAUTH_STATE_KEY_LABEL, 32))]),
  );
  return { activeKeyId: tokenKeys.activeKeyId, keys };
}

/** Encodes a state as `<key id>.<iv>.<ciphertext>.<tag>`, each part base64url. */
export function sealState(keyring: Keyring, state: OAuthState): string {
  const sealed = encryptToken(keyring, STATE_AAD, JSON.stringify(state));
  return [sealed.keyId, sealed.iv, sealed.ciphertext, sealed.tag].map((part) => Buffer.from(part).toString('base64url')).join('.');
}

/** Opens a state: invalid when it is malformed, forged or sealed with a key the keyring lacks; expired past its expiry. */
export function openState(keyring: Keyring, raw: string | undefined, now: number = Date.now()): StateCheck {
  const parts = (raw ?? '').split('.');
  if (parts.length !== 4) {
    return { ok: false, problem: 'invalid' };
  }
  const [keyId, iv, ciphertext, tag] = parts.map((part) => Buffer.from(part, 'base64url'));
  let state: OAuthState;
  try {
    if (keyring.keys[keyId.toString('utf8')] === undefined || iv.length !== 12 || tag.length !== 16) {
      return { ok: false, problem: 'invalid' };
    }
    state = JSON.parse(decryptToken(keyring, STATE_AAD, { keyId: keyId.toString('utf8'), iv, ciphertext, tag })) as OAuthState;
  } catch {
    return { ok: false, problem: 'invalid' };
  }
  return state.expiresAt <= now ? { ok: false, problem: 'expired' } : { ok: true, state };
}
