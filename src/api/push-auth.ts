/**
 * Verification of the OIDC token that Pub/Sub puts in every push request
 * (`Authorization: Bearer <JWT>`). google-auth-library checks the RS256
 * signature against the configured certificates and the iat/exp window,
 * with its five-minute clock skew. This module then checks `nbf` with the
 * same skew, the issuer, the audience, the signer email and `email_verified`. Missing or malformed
 * tokens, unknown keys, bad signatures and expired tokens get 401; genuine
 * tokens that are not meant for this endpoint get 403. An accepted token is
 * kept until its `exp`, because Pub/Sub sends one token with many pushes.
 */
import { OAuth2Client } from 'google-auth-library';

/** Issuers of Google-signed OIDC tokens, as google-auth-library lists them. */
export const GOOGLE_ISSUERS = ['https://accounts.google.com', 'accounts.google.com'];

/** A token whose key id is unknown refetches the certificates at most this often, in milliseconds. */
const UNKNOWN_KEY_REFETCH_MS = 30_000;
const CERTS_FETCH_TIMEOUT_MS = 5_000;
/** Clock skew allowed for `nbf`, in seconds: google-auth-library 10.5's default for iat and exp. */
const CLOCK_SKEW_SECONDS = 300;
/** Verified tokens kept so that a token Pub/Sub reuses is not verified again before it expires. */
const VERIFIED_TOKENS_MAX = 1_000;

export interface PushAuthOptions {
  audience: string;
  serviceAccountEmail: string;
  /** URL of a JSON map from key id to PEM certificate. */
  certsUrl: string;
  /** How long fetched certificates are reused unless the response's Cache-Control max-age is shorter, in seconds. */
  certsCacheSeconds: number;
  issuers?: string[];
}

export type PushAuthResult =
  | { ok: true; email: string }
  | { ok: false; status: 401 | 403; reason: PushAuthFailure };

export type PushAuthFailure =
  | 'token_missing'
  | 'token_malformed'
  | 'unknown_signing_key'
  | 'invalid_signature'
  | 'token_expired'
  | 'token_not_yet_valid'
  | 'token_invalid'
  | 'wrong_issuer'
  | 'wrong_audience'
  | 'wrong_email'
  | 'email_not_verified';

/** Thrown when the certificates cannot be fetched; the push should be retried, so it gets 503. */
export class CertificatesUnavailableError extends Error {
  constructor(url: string, cause: unknown) {
    super(`fetching push token certificates from ${url} failed: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = 'CertificatesUnavailableError';
  }
}

interface CachedCerts {
  certs: Record<string, string>;
  expiresAt: number;
  fetchedAt: number;
}

function reject(status: 401 | 403, reason: PushAuthFailure): PushAuthResult {
  return { ok: false, status, reason };
}

/** Reads the `kid` and `alg` of a JWT header without trusting them. */
function readJwtHeader(token: string): { kid: string; alg: string } | undefined {
  const parts = token.split('.');
  if (parts.length !== 3 || parts.some((part) => !/^[A-Za-z0-9_-]+$/.test(part))) {
    return undefined;
  }
  try {
    const header = JSON.parse(Buffer.from(parts[0], 'base64url').toString('utf8')) as { kid?: unknown; alg?: unknown };
    return typeof header.kid === 'string' && typeof header.alg === 'string' ? { kid: header.kid, alg: header.alg } : undefined;
  } catch {
    return undefined;
  }
}

function classifyLibraryError(error: unknown): PushAuthFailure {
  const message = error instanceof Error ? error.message : '';
  if (message.startsWith('Invalid token signature')) {
    return 'invalid_signature';
  }
  if (message.startsWith('Token used too late')) {
    return 'token_expired';
  }
  return 'token_invalid';
}

export class PushTokenVerifier {
  private readonly oauth = new OAuth2Client();
  private readonly issuers: string[];
  private cached: CachedCerts | undefined;
  private fetching: Promise<CachedCerts> | undefined;
  /** Accepted tokens with their `exp` in milliseconds, oldest first. */
  private readonly verified = new Map<string, { email: string; expiresAtMs: number }>();

  constructor(private readonly options: PushAuthOptions) {
    this.issuers = options.issuers ?? GOOGLE_ISSUERS;
  }

  /**
   * Verifies an Authorization header value. Throws
   * CertificatesUnavailableError when the certificates cannot be fetched.
   */
  async verify(authorization: string | undefined): Promise<PushAuthResult> {
    // 1. Shape: a bearer JWT signed with RS256 (Google's algorithm for these tokens).
    if (authorization === undefined || authorization === '') {
      return reject(401, 'token_missing');
    }
    const match = /^Bearer ([^\s]+)$/i.exec(authorization);
    const header = match ? readJwtHeader(match[1]) : undefined;
    if (!match || !header || header.alg !== 'RS256') {
      return reject(401, 'token_malformed');
    }
    const token = match[1];
    const known = this.verified.get(token);
    if (known !== undefined && Date.now() < known.expiresAtMs) {
      return { ok: true, email: known.email };
    }

    // 2. Signature and expiry, against cached certificates; an unknown key refetches them once.
    const certs = await this.certificatesFor(header.kid);
    if (!(header.kid in certs)) {
      return reject(401, 'unknown_signing_key');
    }
    let payload: Record<string, unknown>;
    try {
      const ticket = await this.oauth.verifySignedJwtWithCertsAsync(token, certs);
      payload = (ticket.getPayload() ?? {}) as Record<string, unknown>;
    } catch (error) {
      return reject(401, classifyLibraryError(error));
    }

    // 3. google-auth-library checks iat and exp but ignores nbf.
    if (payload.nbf !== undefined && !(Number(payload.nbf) <= Date.now() / 1000 + CLOCK_SKEW_SECONDS)) {
      return reject(401, 'token_not_yet_valid');
    }

    // 4. A genuine token: is it meant for this endpoint?
    if (typeof payload.iss !== 'string' || !this.issuers.includes(payload.iss)) {
      return reject(403, 'wrong_issuer');
    }
    if (payload.aud !== this.options.audience) {
      return reject(403, 'wrong_audience');
    }
    if (typeof payload.email !== 'string' || payload.email.toLowerCase() !== this.options.serviceAccountEmail.toLowerCase()) {
      return reject(403, 'wrong_email');
    }
    if (payload.email_verified !== true && payload.email_verified !== 'true') {
      return reject(403, 'email_not_verified');
    }
    this.remember(token, payload.email, Number(payload.exp) * 1000);
    return { ok: true, email: payload.email };
  }

  /** Keeps an accepted token until its `exp`, dropping the oldest entry when the cache is full. */
  private remember(token: string, email: string, expiresAtMs: number): void {
    if (this.verified.size >= VERIFIED_TOKENS_MAX) {
      const oldest = this.verified.keys().next().value;
      if (oldest !== undefined) {
        this.verified.delete(oldest);
      }
    }
    this.verified.set(token, { email, expiresAtMs });
  }

  private async certificatesFor(kid: string): Promise<Record<string, string>> {
    const now = Date.now();
    let current = this.cached;
    if (!current || now >= current.expiresAt) {
      current = await this.refresh();
    } else if (!(kid in current.certs) && now - current.fetchedAt >= UNKNOWN_KEY_REFETCH_MS) {
      // Keys rotate: a new kid may already be published.
      current = await this.refresh();
    }
    return current.certs;
  }

  /** Fetches the certificates; concurrent callers share one request. */
  private refresh(): Promise<CachedCerts> {
    this.fetching ??= this.fetchCertificates().finally(() => {
      this.fetching = undefined;
    });
    return this.fetching;
  }

  private async fetchCertificates(): Promise<CachedCerts> {
    const url = this.options.certsUrl;
    let response: Response;
    let body: unknown;
    try {
      response = await fetch(url, { signal: AbortSignal.timeout(CERTS_FETCH_TIMEOUT_MS) });
      if (!response.ok) {
        throw new Error(`HTTP ${response.status}`);
      }
      body = await response.json();
    } catch (error) {
      throw new CertificatesUnavailableError(url, error);
    }
    if (typeof body !== 'object' || body === null || Object.values(body).some((pem) => typeof pem !== 'string')) {
      throw new CertificatesUnavailableError(url, new Error('the response is not a JSON map from key id to PEM certificate'));
    }

    const maxAge = /max-age=(\d+)/.exec(response.headers.get('cache-control') ?? '')?.[1];
    const cacheSeconds = Math.min(this.options.certsCacheSeconds, maxAge === undefined ? Infinity : Number(maxAge));
    const fetchedAt = Date.now();
    this.cached = { certs: body as Record<string, string>, fetchedAt, expiresAt: fetchedAt + cacheSeconds * 1000 };
    return this.cached;
  }
}
