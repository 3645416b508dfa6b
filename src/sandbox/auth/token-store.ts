import { randomBytes } from 'node:crypto';

import type { SandboxClock } from '../clock';
import { ConsentGrants } from './consent';
import { OAuthError } from './oauth-error';
import { ServiceAccounts } from './service-accounts';
import { GoogleApiError, invalidCredentials } from '../google-error';
import type { Mailbox } from '../mailbox';
import type { MailboxRegistry } from '../mailbox-registry';

/** Refresh tokens that need no consent are `sandbox-refresh:<emailAddress>`; see exchange. */
export const REFRESH_TOKEN_PREFIX = 'sandbox-refresh:';

/** Google's access tokens last an hour and the token endpoint reports 3599 seconds. */
const ACCESS_TOKEN_LIFETIME_S = 3599;

export { OAuthError } from './oauth-error';

export const GMAIL_SCOPE = 'https://www.googleapis.com/auth/gmail.readonly';

export interface AccessTokenGrant {
  emailAddress: string;
  /** Epoch milliseconds on the sandbox clock. */
  expiresAt: number;
  /** The consent-issued refresh token it came from, so revoking that token revokes it too. */
  refreshToken?: string;
}

/** The token endpoint's success body; `refresh_token` only from a code exchange with offline access. */
export interface TokenResponse {
  access_token: string;
  expires_in: number;
  token_type: 'Bearer';
  scope: string;
  refresh_token?: string;
}

/** grant_type of a service account's signed assertion (RFC 7523). */
export const JWT_BEARER_GRANT = 'urn:ietf:params:oauth:grant-type:jwt-bearer';

/**
 * Access tokens issued by the sandbox's token endpoint, each bound to one
 * mailbox so that `userId=me` resolves to it, and the grants they are
 * issued for.
 */
export class TokenStore {
  constructor(
    private readonly registry: MailboxRegistry,
    private readonly clock: SandboxClock,
    readonly consent: ConsentGrants = new ConsentGrants(),
    readonly serviceAccounts: ServiceAccounts = new ServiceAccounts(),
    readonly grants: Map<string, AccessTokenGrant> = new Map(),
  ) {}

  /**
   * The token endpoint: dispatches on grant_type. `refresh_token` accepts
   * `sandbox-refresh:<emailAddress>` (valid for that mailbox, which is
   * created on first use) and the tokens that the consent flow issued;
   * `authorization_code` exchanges a consent's code and PKCE verifier;
   * the JWT-bearer grant takes a service account's assertion. A mailbox set
   * to return invalid_grant does so for every grant.
   */
  exchange(form: Record<string, string | undefined>, tokenUrl: string): TokenResponse {
    switch (form.grant_type) {
      case 'refresh_token':
        return this.refresh(form);
      case 'authorization_code': {
        const exchanged = this.consent.exchangeCode(form);
        const response = this.issue(exchanged.emailAddress, exchanged.scope, exchanged.refreshToken);
        return exchanged.refreshToken === undefined ? response : { ...response, refresh_token: exchanged.refreshToken };
      }
      case JWT_BEARER_GRANT: {
        const asserted = this.serviceAccounts.verifyAssertion(form.assertion ?? '', tokenUrl);
        return this.issue(asserted.emailAddress, asserted.scope);
      }
      default:
        throw new OAuthError('unsupported_grant_type', `Invalid grant_type: ${form.grant_type ?? ''}`);
    }
  }

  /** Exchanges a refresh token for an access token. */
  private refresh(form: Record<string, string | undefined>): TokenResponse {
    const refreshToken = form.refresh_token ?? '';
    if (refreshToken.startsWith(REFRESH_TOKEN_PREFIX)) {
      return this.issue(refreshToken.slice(REFRESH_TOKEN_PREFIX.length), GMAIL_SCOPE);
    }
    const grant = this.consent.issuedGrant(form);
    return this.issue(grant.emailAddress, grant.scope, refreshToken);
  }

  /** Issues an access token for a mailbox, unless the mailbox is set to return invalid_grant. */
  private issue(emailAddress: string, scope: string, refreshToken?: string): TokenResponse {
    let mailbox: Mailbox;
    try {
      mailbox = this.registry.getOrCreate(emailAddress);
    } catch {
      throw new OAuthError('invalid_grant', 'Bad Request');
    }
    if (mailbox.data.invalidGrant) {
      throw new OAuthError('invalid_grant', 'Token has been expired or revoked.');
    }

    const accessToken = `ya29.sandbox-${randomBytes(24).toString('base64url')}`;
    this.grants.set(accessToken, {
      emailAddress: mailbox.emailAddress,
      expiresAt: this.clock.now() + ACCESS_TOKEN_LIFETIME_S * 1000,
      ...(refreshToken !== undefined && !refreshToken.startsWith(REFRESH_TOKEN_PREFIX) ? { refreshToken } : {}),
    });
    return { access_token: accessToken, expires_in: ACCESS_TOKEN_LIFETIME_S, token_type: 'Bearer', scope };
  }

  /**
   * Revokes every consent-issued refresh token of a mailbox and the access
   * tokens obtained with them, so the next Gmail call gets 401 and the next
   * refresh invalid_grant. Returns how many refresh tokens were revoked.
   */
  revokeConsents(emailAddress: string): number {
    const revoked = new Set(this.consent.revokeMailbox(emailAddress));
    for (const [accessToken, grant] of this.grants) {
      if (grant.refreshToken !== undefined && revoked.has(grant.refreshToken)) {
        this.grants.delete(accessToken);
      }
    }
    return revoked.size;
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
