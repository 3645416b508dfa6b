import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

import { OAuthError } from './oauth-error';

/** Gmail scopes that the sandbox grants; the consent and assertion checks accept only these. */
export const GMAIL_SCOPES = ['https://www.googleapis.com/auth/gmail.readonly', 'https://www.googleapis.com/auth/gmail.modify'];

/** Google's authorization codes are short-lived; the sandbox keeps them 10 minutes. */
const CODE_LIFETIME_MS = 10 * 60_000;

/** An OAuth client that the sandbox's authorization and token endpoints accept. */
export interface OAuthClientRegistration {
  clientId: string;
  clientSecret: string;
  redirectUris: string[];
}

/** A refresh token issued through the consent flow, bound to one mailbox and one client. */
export interface IssuedRefreshToken {
  emailAddress: string;
  clientId: string;
  scope: string;
  revoked: boolean;
}

interface AuthorizationCode {
  clientId: string;
  redirectUri: string;
  emailAddress: string;
  scope: string;
  codeChallenge: string;
  offline: boolean;
  /** Wall-clock epoch milliseconds, as the browser and the product see time. */
  expiresAt: number;
  used: boolean;
}

/** Override of the next consent: another account than login_hint, or a refusal. */
export interface NextConsent {
  emailAddress?: string;
  deny?: boolean;
}

/** An error the authorization endpoint shows as a page, as Google does for a bad client or redirect URI. */
export class AuthorizationPageError extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    readonly description: string,
  ) {
    super(`${error}: ${description}`);
  }
}

/**
 * The consent side of Google's OAuth 2.0 for web server apps: registered
 * clients, the authorization endpoint's decision, authorization codes with
 * PKCE (S256 only), and the refresh tokens they are exchanged for. Google's
 * account chooser and consent screen are replaced by `login_hint`, or by a
 * one-shot NextConsent that the tests set through a control route.
 */
export class ConsentGrants {
  readonly clients = new Map<string, OAuthClientRegistration>();
  readonly refreshTokens = new Map<string, IssuedRefreshToken>();
  private readonly codes = new Map<string, AuthorizationCode>();
  private nextConsent: NextConsent | undefined;

  registerClient(client: OAuthClientRegistration): void {
    this.clients.set(client.clientId, client);
  }

  setNextConsent(next: NextConsent): void {
    this.nextConsent = next;
  }

  /**
   * Decides an authorization request and returns the URL to redirect the
   * browser to: the client's redirect URI with `code` and `state`, or with
   * `error` (access_denied, invalid_request, invalid_scope). A request with
   * an unknown client or an unregistered redirect URI is not redirected.
   */
  authorize(query: Record<string, string | undefined>): string {
    const client = this.clients.get(query.client_id ?? '');
    if (!client) {
      throw new AuthorizationPageError(401, 'invalid_client', `The OAuth client was not found: ${query.client_id ?? '(no client_id)'}`);
    }
    const redirectUri = query.redirect_uri ?? '';
    if (!client.redirectUris.includes(redirectUri)) {
      throw new AuthorizationPageError(400, 'redirect_uri_mismatch', `The redirect URI ${redirectUri || '(none)'} is not registered for client ${client.clientId}`);
    }
    const redirect = (params: Record<string, string>): string => {
      const url = new URL(redirectUri);
      for (const [name, value] of Object.entries({ ...params, ...(query.state !== undefined ? { state: query.state } : {}) })) {
        url.searchParams.set(name, value);
      }
      return url.toString();
    };

    const problem = requestProblem(query);
    if (problem !== undefined) {
      return redirect(problem);
    }
    const next = this.nextConsent;
    this.nextConsent = undefined;
    if (next?.deny) {
      return redirect({ error: 'access_denied' });
    }
    const emailAddress = (next?.emailAddress ?? query.login_hint ?? '').toLowerCase();
    if (emailAddress === '') {
      return redirect({ error: 'invalid_request', error_description: 'The sandbox consents as login_hint; send one.' });
    }

    const code = `4/sandbox-${randomBytes(24).toString('base64url')}`;
    this.codes.set(code, {
      clientId: client.clientId,
      redirectUri,
      emailAddress,
      scope: query.scope ?? '',
      codeChallenge: query.code_challenge ?? '',
      offline: query.access_type === 'offline',
      expiresAt: Date.now() + CODE_LIFETIME_MS,
      used: false,
    });
    return redirect({ code, scope: query.scope ?? '' });
  }

  /**
   * Exchanges an authorization code and its PKCE verifier. Every failure of
   * the code itself (unknown, used, expired, other client or redirect URI,
   * wrong verifier) is invalid_grant, as at Google. Returns the refresh token
   * only for `access_type=offline`.
   */
  exchangeCode(form: Record<string, string | undefined>): { emailAddress: string; scope: string; refreshToken?: string } {
    const client = this.authenticateClient(form);
    const code = this.codes.get(form.code ?? '');
    if (!code || code.used || code.expiresAt <= Date.now() || code.clientId !== client.clientId) {
      throw new OAuthError('invalid_grant', 'Malformed auth code.');
    }
    code.used = true;
    if (code.redirectUri !== form.redirect_uri) {
      throw new OAuthError('redirect_uri_mismatch', 'Bad Request');
    }
    const challenge = createHash('sha256').update(form.code_verifier ?? '').digest('base64url');
    if (!form.code_verifier || !safeEqual(challenge, code.codeChallenge)) {
      throw new OAuthError('invalid_grant', 'Invalid code verifier.');
    }
    if (!code.offline) {
      return { emailAddress: code.emailAddress, scope: code.scope };
    }
    const refreshToken = `1//sandbox-${randomBytes(32).toString('base64url')}`;
    this.refreshTokens.set(refreshToken, { emailAddress: code.emailAddress, clientId: client.clientId, scope: code.scope, revoked: false });
    return { emailAddress: code.emailAddress, scope: code.scope, refreshToken };
  }

  /** Returns the grant behind an issued refresh token, and throws invalid_grant when it is unknown, revoked or another client's. */
  issuedGrant(form: Record<string, string | undefined>): IssuedRefreshToken {
    const grant = this.refreshTokens.get(form.refresh_token ?? '');
    if (!grant || grant.revoked || grant.clientId !== form.client_id) {
      throw new OAuthError('invalid_grant', 'Token has been expired or revoked.');
    }
    return grant;
  }

  /** Revokes every refresh token issued for a mailbox, as removing the app in the Google account does, and returns them. */
  revokeMailbox(emailAddress: string): string[] {
    const revoked: string[] = [];
    for (const [token, grant] of this.refreshTokens) {
      if (grant.emailAddress === emailAddress.toLowerCase() && !grant.revoked) {
        grant.revoked = true;
        revoked.push(token);
      }
    }
    return revoked;
  }

  private authenticateClient(form: Record<string, string | undefined>): OAuthClientRegistration {
    const client = this.clients.get(form.client_id ?? '');
    if (!client || !safeEqual(client.clientSecret, form.client_secret ?? '')) {
      throw new OAuthError('invalid_client', 'Unauthorized');
    }
    return client;
  }
}

/** Returns the first problem of an authorization request that Google reports by redirecting with an error. */
function requestProblem(query: Record<string, string | undefined>): Record<string, string> | undefined {
  if (query.response_type !== 'code') {
    return { error: 'unsupported_response_type', error_description: 'response_type must be code' };
  }
  const scopes = (query.scope ?? '').split(' ').filter((scope) => scope !== '');
  if (!scopes.some((scope) => GMAIL_SCOPES.includes(scope))) {
    return { error: 'invalid_scope', error_description: `scope must include one of ${GMAIL_SCOPES.join(', ')}` };
  }
  if (!query.code_challenge || query.code_challenge_method !== 'S256') {
    return { error: 'invalid_request', error_description: 'PKCE is required: send code_challenge with code_challenge_method=S256' };
  }
  return undefined;
}

function safeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}
