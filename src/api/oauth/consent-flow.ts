/**
 * Google's OAuth 2.0 flow for web server apps, with PKCE, behind
 * operator-issued consent links. `createLink` signs a link for one address.
 * `begin` checks the link and builds the authorization URL. `complete`
 * checks the returned state, exchanges the code, reads from Gmail whose
 * mailbox the new token opens, and stores the refresh token only when that is
 * the invited address. Errors are ApiErrors from the catalogue, so the route
 * renders each with its fix.
 */
import { CodeChallengeMethod, OAuth2Client } from 'google-auth-library';

import type { Config } from '../../config';
import { GMAIL_SCOPES } from '../../credentials/credential-settings';
import type { Keyring } from '../../credentials/token-cipher';
import { gmailClientForAccessToken } from '../../gmail/oauth-provider';
import { ApiError } from '../errors';
import { deriveLinkKeyring, deriveStateKeyring, openLink, openState, sealLink, sealState } from './oauth-state';

export interface ConsentFlowOptions {
  clientId: string;
  clientSecret: string;
  /** Public URL of /v1/oauth/callback. */
  redirectUrl: string;
  authUrl: string;
  tokenUrl: string;
  gmailApiUrl: string;
  /** The OAuth scope requested, gmail.readonly or gmail.modify. */
  scope: string;
  stateKeyring: Keyring;
  stateTtlSeconds: number;
  /** Keys of the consent links; derived apart from the state keys, so a state never passes as a link. */
  linkKeyring: Keyring;
  /** Destination of the refresh token: the TokenStore. */
  tokens: { put(emailAddress: string, grant: { refreshToken: string; scope: string }): Promise<void> };
}

/** The callback's query, as Google sends it. */
export interface CallbackQuery {
  state?: string;
  code?: string;
  error?: string;
  error_description?: string;
}

export interface CompletedConsent {
  /** The address Gmail's getProfile returned for the new token, lower-cased; the token is stored under it. */
  emailAddress: string;
  /** The address of the consent link; always equal to emailAddress, because a consent for another address is rejected. */
  requestedEmailAddress: string;
}

export interface CreatedLink {
  /** The /v1/oauth/start URL to open in a browser. */
  url: string;
  /** The invited address, lower-cased: only this mailbox may consent through the link. */
  emailAddress: string;
  /** Epoch milliseconds. */
  expiresAt: number;
}

export class ConsentFlow {
  constructor(private readonly options: ConsentFlowOptions) {}

  /**
   * Signs a consent link for one address. The link may be opened any number
   * of times until it expires, but only the invited mailbox can complete it.
   * Its URL is /v1/oauth/start next to the public callback URL.
   */
  createLink(emailAddress: string, expiresInSeconds: number, now: number = Date.now()): CreatedLink {
    const invited = emailAddress.toLowerCase();
    const expiresAt = now + expiresInSeconds * 1000;
    const url = new URL('start', this.options.redirectUrl);
    url.search = '';
    url.searchParams.set('emailAddress', emailAddress);
    url.searchParams.set('link', sealLink(this.options.linkKeyring, { emailAddress: invited, expiresAt }));
    return { url: url.toString(), emailAddress: invited, expiresAt };
  }

  /**
   * Checks the consent link, then returns the authorization URL for its
   * mailbox: offline access, a consent prompt (so Google issues a refresh
   * token even after an earlier consent), the S256 challenge of a fresh
   * verifier, `login_hint`, and a sealed state that names the invited address.
   */
  async begin(emailAddress: string, link: string | undefined, now: number = Date.now()): Promise<string> {
    this.checkLink(emailAddress, link, now);
    const client = this.client();
    const { codeVerifier, codeChallenge } = await client.generateCodeVerifierAsync();
    const state = sealState(this.options.stateKeyring, {
      emailAddress: emailAddress.toLowerCase(),
      codeVerifier,
      expiresAt: now + this.options.stateTtlSeconds * 1000,
    });
    return client.generateAuthUrl({
      access_type: 'offline',
      prompt: 'consent',
      scope: [this.options.scope],
      state,
      login_hint: emailAddress,
      code_challenge: codeChallenge,
      code_challenge_method: CodeChallengeMethod.S256,
      redirect_uri: this.options.redirectUrl,
    });
  }

  /**
   * Completes a consent: 1. the state must open and be unexpired, 2. Google
   * must have returned a code, 3. the code and verifier are exchanged, 4.
   * getProfile with the new access token names the mailbox, 5. that mailbox
   * must be the invited one, 6. the refresh token is stored under it.
   */
  async complete(query: CallbackQuery, now: number = Date.now()): Promise<CompletedConsent> {
    // 1. The state proves that this server started the consent for a linked address, and carries the verifier.
    const opened = openState(this.options.stateKeyring, query.state, now);
    if (!opened.ok) {
      throw opened.problem === 'expired'
        ? ApiError.of('OAUTH_STATE_EXPIRED', { emailAddress: opened.value.emailAddress, ttlSeconds: this.options.stateTtlSeconds })
        : ApiError.of('OAUTH_STATE_INVALID');
    }
    const requested = opened.value.emailAddress;

    // 2. Google's redirect carries a code, or an error such as access_denied.
    if (query.error !== undefined) {
      throw query.error === 'access_denied'
        ? ApiError.of('OAUTH_CONSENT_DENIED', { emailAddress: requested })
        : ApiError.of('OAUTH_AUTHORIZATION_FAILED', { emailAddress: requested, error: query.error, description: query.error_description ?? '' });
    }
    if (!query.code) {
      throw ApiError.of('OAUTH_AUTHORIZATION_FAILED', { emailAddress: requested, error: 'no code', description: 'the callback carried neither code nor error' });
    }

    // 3. Exchange the code with the verifier.
    const tokens = await this.exchange(query.code, opened.value.codeVerifier, requested);

    // 4. The mailbox is whichever one getProfile returns for the token.
    const gmail = gmailClientForAccessToken(tokens, this.options.gmailApiUrl);
    let emailAddress: string | undefined;
    try {
      emailAddress = (await gmail.users.getProfile({ userId: 'me' })).data.emailAddress?.toLowerCase() ?? undefined;
    } catch (error) {
      throw ApiError.of('MAILBOX_ADDRESS_UNRESOLVED', { emailAddress: requested, reason: describe(error) });
    }
    if (emailAddress === undefined) {
      throw ApiError.of('MAILBOX_ADDRESS_UNRESOLVED', { emailAddress: requested, reason: 'getProfile returned no emailAddress' });
    }

    // 5. Only the invited mailbox may bind: an operator's link chose it, and another account's token is dropped unstored.
    if (emailAddress !== requested) {
      throw ApiError.of('OAUTH_ACCOUNT_MISMATCH', { invited: requested, signedIn: emailAddress });
    }

    // 6. Store the refresh token, encrypted, under the confirmed address.
    await this.options.tokens.put(emailAddress, { refreshToken: tokens.refreshToken, scope: tokens.scope });
    return { emailAddress, requestedEmailAddress: requested };
  }

  private async exchange(code: string, codeVerifier: string, requested: string): Promise<{ access_token: string; refreshToken: string; scope: string }> {
    let response;
    try {
      response = await this.client().getToken({ code, codeVerifier, redirect_uri: this.options.redirectUrl });
    } catch (error) {
      const oauthError = (error as { response?: { data?: { error?: unknown } } }).response?.data?.error;
      if (typeof oauthError === 'string' && ['invalid_grant', 'redirect_uri_mismatch'].includes(oauthError)) {
        throw ApiError.of('OAUTH_CODE_REJECTED', { emailAddress: requested, error: oauthError });
      }
      throw ApiError.of('OAUTH_TOKEN_ENDPOINT_FAILED', { reason: typeof oauthError === 'string' ? oauthError : describe(error) });
    }
    const { access_token: accessToken, refresh_token: refreshToken, scope } = response.tokens;
    if (!accessToken) {
      throw ApiError.of('OAUTH_TOKEN_ENDPOINT_FAILED', { reason: 'the response carried no access_token' });
    }
    if (!refreshToken) {
      throw ApiError.of('OAUTH_NO_REFRESH_TOKEN', { emailAddress: requested });
    }
    return { access_token: accessToken, refreshToken, scope: scope ?? this.options.scope };
  }

  /** Throws unless `link` is an unexpired consent link that this server signed for `emailAddress`. */
  private checkLink(emailAddress: string, link: string | undefined, now: number): void {
    if (link === undefined || link === '') {
      throw ApiError.of('OAUTH_LINK_MISSING', { emailAddress });
    }
    const opened = openLink(this.options.linkKeyring, link, now);
    if (!opened.ok && opened.problem === 'invalid') {
      throw ApiError.of('OAUTH_LINK_INVALID', { emailAddress, reason: 'it is damaged or was not issued by this server (or its key left GMAIL_SYNC_TOKEN_KEYS)' });
    }
    if (opened.value.emailAddress !== emailAddress.toLowerCase()) {
      throw ApiError.of('OAUTH_LINK_INVALID', { emailAddress, reason: `it was issued for ${opened.value.emailAddress}` });
    }
    if (!opened.ok) {
      throw ApiError.of('OAUTH_LINK_EXPIRED', { emailAddress, expiresAt: new Date(opened.value.expiresAt).toISOString() });
    }
  }

  private client(): OAuth2Client {
    return new OAuth2Client({
      clientId: this.options.clientId,
      clientSecret: this.options.clientSecret,
      redirectUri: this.options.redirectUrl,
      endpoints: { oauth2AuthBaseUrl: this.options.authUrl, oauth2TokenUrl: this.options.tokenUrl },
      transporterOptions: { fetchImplementation: fetch },
    });
  }
}

/** Returns an error's message without its request or response, which can carry tokens. */
function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Builds the consent flow that the settings configure, or returns undefined without an OAuth client, redirect URL or token store. */
export function consentFlowFromConfig(
  config: Pick<Config, 'oauthClientId' | 'oauthClientSecret' | 'oauthRedirectUrl' | 'googleAuthUrl' | 'googleTokenUrl' | 'gmailApiUrl' | 'gmailScope' | 'tokenKeys' | 'oauthStateTtlSeconds'>,
  tokens: ConsentFlowOptions['tokens'] | undefined,
): ConsentFlow | undefined {
  const { oauthClientId, oauthClientSecret, oauthRedirectUrl, tokenKeys } = config;
  if (oauthClientId === undefined || oauthClientSecret === undefined || oauthRedirectUrl === undefined || tokenKeys === undefined || tokens === undefined) {
    return undefined;
  }
  return new ConsentFlow({
    clientId: oauthClientId,
    clientSecret: oauthClientSecret,
    redirectUrl: oauthRedirectUrl,
    authUrl: config.googleAuthUrl,
    tokenUrl: config.googleTokenUrl,
    gmailApiUrl: config.gmailApiUrl,
    scope: GMAIL_SCOPES[config.gmailScope],
    stateKeyring: deriveStateKeyring(tokenKeys),
    stateTtlSeconds: config.oauthStateTtlSeconds,
    linkKeyring: deriveLinkKeyring(tokenKeys),
    tokens,
  });
}
