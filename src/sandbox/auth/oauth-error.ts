/** The OAuth error body of https://oauth2.googleapis.com/token, sent with HTTP 400. */
export class OAuthError extends Error {
  constructor(
    readonly error: string,
    readonly description: string,
  ) {
    super(`${error}: ${description}`);
  }
}
