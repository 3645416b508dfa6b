/**
 * Parsers of the payload encryption settings. Like the other setting parsers,
 * each throws a plain Error that names what is allowed, and the config loader
 * adds the variable's name. Key material never reaches a message.
 */
import { parseKeyringSetting } from '../credentials/token-cipher';

export const PAYLOAD_ENCRYPTION_MODES = ['on', 'off'] as const;
export type PayloadEncryptionMode = (typeof PAYLOAD_ENCRYPTION_MODES)[number];

/** Parses the payload keyring, written like the token store's. */
export const parsePayloadKeyring = parseKeyringSetting;

/** Parses a comma-separated list of browser origins such as `http://localhost:8233`. */
export function parseOrigins(raw: string): string[] {
  const origins = raw
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
  if (origins.length === 0) {
    throw new Error('a comma-separated list of origins such as http://localhost:8233');
  }
  for (const origin of origins) {
    let parsed: URL | undefined;
    try {
      parsed = new URL(origin);
    } catch {
      parsed = undefined;
    }
    if (!parsed || !['http:', 'https:'].includes(parsed.protocol) || parsed.origin !== origin) {
      throw new Error(`a comma-separated list of origins (scheme, host and optional port, no path or trailing slash), but "${origin}" is not one`);
    }
  }
  return origins;
}

/**
 * Returns the environment of `npm run dev`, where payload encryption defaults
 * to off so that the local Temporal UI shows payloads without a keyring. A
 * value the user set, on or off, is kept.
 */
export function withDevPayloadEncryptionDefault(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const set = env.GMAIL_SYNC_PAYLOAD_ENCRYPTION;
  return set !== undefined && set !== '' ? env : { ...env, GMAIL_SYNC_PAYLOAD_ENCRYPTION: 'off' };
}
