/**
 * `npm run rotate-token-keys`: re-encrypts every stored refresh token with the
 * first key of GMAIL_SYNC_TOKEN_KEYS, in the store that GMAIL_SYNC_TOKEN_STORE
 * selects. Run it after putting a new key first; once it reports the rows,
 * the old key can leave the keyring.
 */
import { ConfigError, loadConfig } from '../src/config';
import { openTokenStore, requireCredentialSettings } from '../src/credentials/credential-config';

async function main(): Promise<void> {
  const config = loadConfig();
  if (config.tokenKeys === undefined) {
    throw new ConfigError(['GMAIL_SYNC_TOKEN_KEYS is missing: set it to the new key followed by the old ones, for example new:<base64>,old:<base64>.']);
  }
  requireCredentialSettings(config, 'worker');
  const tokens = (await openTokenStore(config))!;
  try {
    const rotated = await tokens.rotate();
    process.stdout.write(`Re-encrypted ${rotated} refresh tokens with key "${config.tokenKeys.activeKeyId}" in the ${config.tokenStore} token store.\n`);
  } finally {
    await tokens.close();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`rotate-token-keys failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
