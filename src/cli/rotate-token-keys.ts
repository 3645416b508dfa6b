/**
 * `npm run rotate-token-keys`: re-encrypts every stored refresh token with
 * the first key of GMAIL_SYNC_TOKEN_KEYS, so that the keys after it can be
 * removed from the keyring.
 *
 * Exit codes: 0 every token uses the first key, 1 a token could not be
 * re-encrypted, 2 the command could not run (bad option or configuration).
 */
import { ConfigError, loadConfig } from '../config';
import { openTokenStore } from '../credentials/credential-config';

export const ROTATE_TOKEN_KEYS_USAGE = `Usage: npm run rotate-token-keys

Re-encrypts every refresh token in the token store with the first key of
GMAIL_SYNC_TOKEN_KEYS. Put the new key first, keep the old ones after it,
restart the API and the worker, then run this command with the same
settings (GMAIL_SYNC_TOKEN_KEYS, GMAIL_SYNC_TOKEN_STORE and its path or URL).
When it reports that every token uses the first key, remove the old keys
from GMAIL_SYNC_TOKEN_KEYS and restart the API and the worker again.

Exit codes: 0 every token uses the first key, 1 a token could not be
re-encrypted (the message names it), 2 bad option or configuration.`;

/** Runs the rotation with the given arguments and environment, and returns the process exit code. */
export async function runRotateTokenKeys(argv: string[], env: NodeJS.ProcessEnv, print: (line: string) => void): Promise<number> {
  if (argv.includes('--help')) {
    print(ROTATE_TOKEN_KEYS_USAGE);
    return 0;
  }
  if (argv.length > 0) {
    print(`rotate-token-keys: unknown argument ${JSON.stringify(argv[0])}; the command takes no options.\n\n${ROTATE_TOKEN_KEYS_USAGE}`);
    return 2;
  }

  // 1. Settings: the keyring and where the tokens are.
  let config;
  try {
    config = loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) {
      print(`rotate-token-keys: ${error.message}`);
      return 2;
    }
    throw error;
  }
  const keyring = config.tokenKeys;
  if (keyring === undefined) {
    print('rotate-token-keys: GMAIL_SYNC_TOKEN_KEYS is missing: set it to the keyring with the new key first, such as k2:<new>,k1:<old>.');
    return 2;
  }
  if (config.tokenStore === 'postgres' && config.tokenStoreUrl === undefined) {
    print('rotate-token-keys: GMAIL_SYNC_TOKEN_STORE_URL is missing: GMAIL_SYNC_TOKEN_STORE=postgres needs its connection string.');
    return 2;
  }

  // 2. Re-encrypt in batches until no row uses another key.
  const store = await openTokenStore(config);
  if (store === undefined) {
    print('rotate-token-keys: no token store is configured.');
    return 2;
  }
  try {
    // NOTE: rows are rewritten without checking that they are unchanged, so a consent that stores a token
    // while this runs can be overwritten with the token read just before. Run it when no consent is in progress.
    const rotated = await store.rotate();
    const others = Object.keys(keyring.keys).filter((keyId) => keyId !== keyring.activeKeyId);
    print(`re-encrypted ${rotated} refresh token(s); every stored token now uses key "${keyring.activeKeyId}".`);
    if (others.length > 0) {
      print(`The keys ${others.map((keyId) => `"${keyId}"`).join(', ')} can now be removed from GMAIL_SYNC_TOKEN_KEYS.`);
    }
    return 0;
  } catch (error) {
    print(`rotate-token-keys failed: ${(error as Error).message}`);
    return 1;
  } finally {
    await store.close();
  }
}

if (require.main === module) {
  runRotateTokenKeys(process.argv.slice(2), process.env, (line) => process.stdout.write(`${line}\n`))
    .then((code) => process.exit(code))
    .catch((error: unknown) => {
      process.stderr.write(`rotate-token-keys failed: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(1);
    });
}
