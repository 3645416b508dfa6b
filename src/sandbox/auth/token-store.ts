import { randomBytes } from 'node:crypto';

import type { SandboxClock } from '../clock';
import { GoogleApiError, invalidCredentials } from '../google-error';
import type { Mailbox } from '../mailbox';
import type { MailboxRegistry } from '../mailbox-registry';

/** Refresh tokens are `sandbox-refresh:<emailAddress>`; see issueAccessToken. */
export const REFRESH_TOKEN_PREFIX = 'sandbox-refresh:';

/** Google's access tokens last an hour and the token endpoint reports 3599 seconds. */
const ACCESS_TOKEN_LIFETIME_S = 3599;

export const GMAIL_SCOPE = 'https://www.googleapis.com/auth/gmail.readonly';

export interface AccessTokenGrant {
  emailAddress: string;
  /** Epoch milliseconds on the sandbox clock. */
  expiresAt: number;
}

/** The OAuth error body of https://oauth2.googleapis.com/token, sent with HTTP 400. */
export class OAuthError extends Error {
  constructor(
    readonly error: string,
    readonly description: string,
  ) {
    super(`${error}: ${description}`);
  }
}

/**
 * Access tokens issued by the sandbox's token endpoint, each bound to one
 * mailbox so that `userId=me` resolves to it.
 */
export class TokenStore {
  constructor(
    private readonly registry: MailboxRegistry,
    private readonly clock: SandboxClock,
    readonly grants: Map<string, AccessTokenGrant> = new Map(),
  ) {}

  /**
   * Exchanges a refresh token for an access token. The refresh token
   * `sandbox-refresh:<emailAddress>` is valid for that mailbox, which is
   * created on first use, unless the mailbox is set to return invalid_grant.
   */
  refresh(form: Record<string, string | undefined>): { access_token: string; expires_in: number; token_type: 'Bearer'; scope: string } {
    if (form.grant_type !== 'refresh_token') {
      throw new OAuthError('unsupported_grant_type', `Invalid grant_type: ${form.grant_type ?? ''}`);
    }
    const refreshToken = form.refresh_token ?? '';
    if (!refreshToken.startsWith(REFRESH_TOKEN_PREFIX)) {
      throw new OAuthError('invalid_grant', 'Bad Request');
    }
    let mailbox: Mailbox;
    try {
      mailbox = this.registry.getOrCreate(refreshToken.slice(REFRESH_TOKEN_PREFIX.length));
    } catch {
      throw new OAuthError('invalid_grant', 'Bad Request');
    }
    if (mailbox.data.invalidGrant) {
      throw new OAuthError('invalid_grant', 'Token has been expired or revoked.');
    }

    const accessToken = `ya29.sandbox-${randomBytes(24).toString('base64url')}`;
    this.grants.set(accessToken, { emailAddress: mailbox.emailAddress, expiresAt: this.clock.now() + ACCESS_TOKEN_LIFETIME_S * 1000 });
    return { access_token: accessToken, expires_in: ACCESS_TOKEN_LIFETIME_S, token_type: 'Bearer', scope: GMAIL_SCOPE };
  }

  /**
   * Resolves a Gmail request's bearer token and userId to a mailbox: 401 for
   * a missing, unknown, expired or rejected token, 403 when userId names a
   * mailbox other than the token's.
   */
  authorize(authorization: string | undefined, userId: string): Mailbox {
    const token = /^Bearer (\S+)$/i.exec(authorization ?? '')?.[1];
    const grant = token === undefined ? undefined : this.grants.get(token);
    if (!grant || grant.expiresAt <= this.clock.now()) {
      throw invalidCredentials();
    }
    const mailbox = this.registry.find(grant.emailAddress);
    if (!mailbox || mailbox.data.rejectAccessTokens) {
      throw invalidCredentials();
    }
    if (userId !== 'me' && this.registry.find(userId) !== mailbox) {
      throw new GoogleApiError(403, `Delegation denied for ${mailbox.emailAddress}`, 'forbidden');
    }
    return mailbox;
  }
}
