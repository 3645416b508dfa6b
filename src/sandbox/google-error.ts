/**
 * Google API error bodies, `{error:{code,message,errors:[{message,domain,reason}],status}}`,
 * as the Gmail API returns them. Handlers throw GoogleApiError and the server's
 * error handler writes the body, so every failure leaves in Google's shape.
 */
export interface GoogleErrorBody {
  error: {
    code: number;
    message: string;
    errors: { message: string; domain: string; reason: string }[];
    status: string;
  };
}

const STATUS_BY_CODE: Record<number, string> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  409: 'ABORTED',
  412: 'FAILED_PRECONDITION',
  429: 'RESOURCE_EXHAUSTED',
  500: 'INTERNAL',
  503: 'UNAVAILABLE',
};

export class GoogleApiError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly reason: string,
    readonly domain = 'global',
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }

  toBody(): GoogleErrorBody {
    return {
      error: {
        code: this.code,
        message: this.message,
        errors: [{ message: this.message, domain: this.domain, reason: this.reason }],
        status: STATUS_BY_CODE[this.code] ?? 'UNKNOWN',
      },
    };
  }
}

/** Creates a 400 `invalidArgument` error that names the invalid field, as Gmail's validation does. */
export function invalidArgument(message: string): GoogleApiError {
  return new GoogleApiError(400, message, 'invalidArgument');
}

export function notFound(): GoogleApiError {
  return new GoogleApiError(404, 'Requested entity was not found.', 'notFound');
}

export function invalidCredentials(): GoogleApiError {
  return new GoogleApiError(
    401,
    'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.',
    'authError',
  );
}

/**
 * Creates the error Gmail sends for an injected status. The 429 and 403 texts match
 * Gmail's responses for per-user concurrency and per-user rate limits.
 */
export function errorForStatus(code: number, retryAfterSeconds?: number): GoogleApiError {
  const headers: Record<string, string> = retryAfterSeconds === undefined ? {} : { 'retry-after': String(retryAfterSeconds) };
  switch (code) {
    case 400:
      return new GoogleApiError(400, 'Precondition check failed.', 'failedPrecondition', 'global', headers);
    case 401:
      return invalidCredentials();
    case 403:
      return new GoogleApiError(403, 'User-rate limit exceeded.', 'userRateLimitExceeded', 'usageLimits', headers);
    case 404:
      return notFound();
    case 429:
      return new GoogleApiError(429, 'Too many concurrent requests for user.', 'rateLimitExceeded', 'global', headers);
    case 500:
      return new GoogleApiError(500, 'Backend Error', 'backendError', 'global', headers);
    case 503:
      return new GoogleApiError(503, 'The service is currently unavailable.', 'backendError', 'global', headers);
    default:
      return new GoogleApiError(code, `Injected error ${code}.`, 'backendError', 'global', headers);
  }
}
