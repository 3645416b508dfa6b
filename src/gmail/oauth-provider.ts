import { OAuth2Client, type Credentials } from 'google-auth-library';
import type { gmail_v1 } from 'googleapis';

import type { CredentialRef } from '../../workflows/mailbox/types';
import type { StoredGrant } from '../credentials/token-store';
import { MissingGrantError } from './errors';
import { createGmailClient, GmailClientCache } from './gmail-client';
import type { GmailProvider } from './provider';

/** Source of stored refresh tokens; the TokenStore implements it. */
export interface RefreshTokenSource {
  get(emailAddress: string): Promise<StoredGrant | undefined>;
}

export interface OAuthProviderOptions {
  tokens: RefreshTokenSource;
  clientId: string;
  clientSecret: string;
  /** Google's token endpoint, or the sandbox's in tests and under `npm run dev`. */
  tokenUrl: string;
  /** Root URL of the Gmail API. */
  gmailApiUrl: string;
}

/** Gmail clients for mailboxes with `oauth` credentials, keyed by mailbox. */
export interface OAuthGmailProvider extends GmailProvider {
  /** Drops the cached client of a mailbox, so its next call reads the stored refresh token again. */
  forget(emailAddress: string): void;
}

/**
 * An OAuth2Client whose refresh token lives in the token store. It reads the
 * token before its first request and again before every refresh, so a new
 * consent stored by another process (the API) is used at the next refresh
 * without restarting the worker.
 */
class StoredGrantClient extends OAuth2Client {
  constructor(
    options: ConstructorParameters<typeof OAuth2Client>[0],
    private readonly loadRefreshToken: () => Promise<string>,
    private readonly onInvalidGrant: () => void,
  ) {
    super(options);
  }

  protected override async getRequestMetadataAsync(url?: string | URL | null) {
    if (!this.credentials.refresh_token) {
      this.credentials.refresh_token = await this.loadRefreshToken();
    }
    return super.getRequestMetadataAsync(url);
  }

  protected override async refreshTokenNoCache() {
    const refreshToken = await this.loadRefreshToken();
    this.credentials.refresh_token = refreshToken;
    try {
      return await super.refreshTokenNoCache(refreshToken);
    } catch (error) {
      if ((error as { response?: { data?: { error?: unknown } } }).response?.data?.error === 'invalid_grant') {
        this.onInvalidGrant();
      }
      throw error;
    }
  }
}

/**
 * Gmail clients authorised by the refresh token that the consent flow stored
 * for each mailbox (`credential.id`, when set, names the stored address
 * instead). Token refresh runs in google-auth-library against `tokenUrl`.
 * One client per mailbox is kept so that access tokens are reused. It is
 * dropped when the grant turns out revoked (`invalid_grant`), and the API
 * drops it after a new consent when it shares this provider.
 * A mailbox without a stored token fails with MissingGrantError, which the
 * error mapper turns into AuthRevoked.
 */
export function createOAuthGmailProvider(options: OAuthProviderOptions): OAuthGmailProvider {
  const clients: GmailClientCache = new GmailClientCache((address) => {
    const loadRefreshToken = async (): Promise<string> => {
      const grant = await options.tokens.get(address);
      if (!grant) {
        throw new MissingGrantError(address);
      }
      return grant.refreshToken;
    };
    const auth = new StoredGrantClient(
      {
        clientId: options.clientId,
        clientSecret: options.clientSecret,
        endpoints: { oauth2TokenUrl: options.tokenUrl },
        transporterOptions: { fetchImplementation: fetch },
        // A 401 refreshes the token and retries once, so a 401 that reaches the error mapper persisted after a refresh.
        forceRefreshOnFailure: true,
      },
      loadRefreshToken,
      () => clients.delete(address),
    );
    return createGmailClient(auth, options.gmailApiUrl);
  });

  return {
    client(emailAddress: string, credential: CredentialRef): gmail_v1.Gmail {
      return clients.get((credential.id ?? emailAddress).toLowerCase());
    },
    forget(emailAddress: string): void {
      clients.delete(emailAddress.toLowerCase());
    },
  };
}

/** Builds a Gmail client for one access token, which the consent callback has before the refresh token is stored. */
export function gmailClientForAccessToken(credentials: Pick<Credentials, 'access_token'>, gmailApiUrl: string): gmail_v1.Gmail {
  const auth = new OAuth2Client({ transporterOptions: { fetchImplementation: fetch } });
  auth.setCredentials({ access_token: credentials.access_token });
  return createGmailClient(auth, gmailApiUrl);
}
