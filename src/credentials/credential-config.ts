/**
 * Turns the credential settings into the parts that API and worker share:
 * the checks that stop a process that could not authorise its mailboxes, the
 * token store, and the Gmail provider of every credential kind.
 */
import { existsSync } from 'node:fs';

import { ConfigError, dataPath, type Config } from '../config';
import { createGmailProvider, createSandboxGmailProvider, type GmailProvider } from '../gmail';
import { createOAuthGmailProvider, type OAuthGmailProvider } from '../gmail/oauth-provider';
import { createWorkspaceGmailProvider } from '../gmail/workspace-provider';
import { GMAIL_SCOPES } from './credential-settings';
import { PostgresRowStore } from './postgres-store';
import { SqliteRowStore } from './sqlite-store';
import { TokenStore } from './token-store';

export type CredentialConfig = Pick<
  Config,
  | 'credentialProvider'
  | 'dataDir'
  | 'gmailSandboxUrl'
  | 'gmailScope'
  | 'gmailApiUrl'
  | 'googleTokenUrl'
  | 'workspaceKeyFile'
  | 'oauthClientId'
  | 'oauthClientSecret'
  | 'oauthRedirectUrl'
  | 'tokenStore'
  | 'tokenStorePath'
  | 'tokenStoreUrl'
  | 'tokenKeys'
>;

/** Returns whether the process needs the token store: with oauth credentials, or whenever a keyring is configured. */
export function usesTokenStore(config: CredentialConfig): boolean {
  return config.credentialProvider === 'oauth' || config.tokenKeys !== undefined;
}

/**
 * Throws one ConfigError naming every credential setting that the process
 * cannot run without. The API also needs the redirect URL of the consent flow.
 */
export function requireCredentialSettings(config: CredentialConfig, process: 'api' | 'worker'): void {
  const problems: string[] = [];
  if (config.credentialProvider === 'oauth') {
    if (config.tokenKeys === undefined) {
      problems.push('GMAIL_SYNC_TOKEN_KEYS is missing: oauth credentials keep refresh tokens encrypted; set it to k1:$(openssl rand -base64 32).');
    }
    if (config.oauthClientId === undefined || config.oauthClientSecret === undefined) {
      problems.push('GMAIL_SYNC_OAUTH_CLIENT_ID and GMAIL_SYNC_OAUTH_CLIENT_SECRET are required with oauth credentials: set them to the id and secret of your OAuth 2.0 client (type Web application).');
    }
    if (process === 'api' && config.oauthRedirectUrl === undefined) {
      problems.push('GMAIL_SYNC_OAUTH_REDIRECT_URL is missing: set it to the public URL of /v1/oauth/callback, as registered in the OAuth client.');
    }
  }
  if (usesTokenStore(config) && config.tokenStore === 'postgres' && config.tokenStoreUrl === undefined) {
    problems.push('GMAIL_SYNC_TOKEN_STORE_URL is missing: GMAIL_SYNC_TOKEN_STORE=postgres needs a connection string such as postgres://gmail_sync:password@db:5432/gmail_sync.');
  }
  if (config.credentialProvider === 'workspace' && config.workspaceKeyFile !== undefined && !existsSync(config.workspaceKeyFile)) {
    problems.push(`GMAIL_SYNC_WORKSPACE_KEY_FILE=${JSON.stringify(config.workspaceKeyFile)} does not exist: set it to the service account's JSON key file, or unset it to use Application Default Credentials.`);
  }
  if (problems.length > 0) {
    throw new ConfigError(problems);
  }
}

/** Returns the SQLite file of the sqlite token store. */
export function tokenStoreFile(config: Pick<Config, 'tokenStorePath' | 'dataDir'>): string {
  return config.tokenStorePath ?? dataPath(config, 'tokens.sqlite');
}

/** Opens the configured token store, creating its table when missing; undefined when the process needs none. */
export async function openTokenStore(config: CredentialConfig): Promise<TokenStore | undefined> {
  if (!usesTokenStore(config) || config.tokenKeys === undefined) {
    return undefined;
  }
  const rows = config.tokenStore === 'postgres' ? await PostgresRowStore.open({ connectionString: config.tokenStoreUrl }) : new SqliteRowStore(tokenStoreFile(config));
  return new TokenStore(rows, config.tokenKeys);
}

export interface CredentialProviders {
  /** Routes each mailbox's credential reference to its provider. */
  gmail: GmailProvider;
  /** The oauth provider, when configured, so the consent callback can drop a cached client. */
  oauth?: OAuthGmailProvider;
}

/**
 * Builds the Gmail providers: sandbox always, oauth when the token store and
 * the OAuth client are configured, and workspace always (it reads its key on
 * first use only).
 */
export function createCredentialProviders(config: CredentialConfig, tokens: TokenStore | undefined): CredentialProviders {
  const scope = GMAIL_SCOPES[config.gmailScope];
  const oauth =
    tokens && config.oauthClientId !== undefined && config.oauthClientSecret !== undefined
      ? createOAuthGmailProvider({
          tokens,
          clientId: config.oauthClientId,
          clientSecret: config.oauthClientSecret,
          tokenUrl: config.googleTokenUrl,
          gmailApiUrl: config.gmailApiUrl,
        })
      : undefined;
  const workspace = createWorkspaceGmailProvider({
    keyFile: config.workspaceKeyFile,
    scope,
    tokenUrl: config.googleTokenUrl,
    gmailApiUrl: config.gmailApiUrl,
  });
  return {
    gmail: createGmailProvider({ sandbox: createSandboxGmailProvider(config.gmailSandboxUrl), oauth, workspace }),
    oauth,
  };
}
