import type { GoogleAuth, OAuth2Client } from 'google-auth-library';
import { google, type gmail_v1 } from 'googleapis';

/**
 * A Gmail API client at `rootUrl` with googleapis' own retries off, so that
 * Temporal's retry policy is the only one. It uses Node's built-in fetch:
 * gaxios otherwise loads node-fetch through a dynamic import(), which Jest's
 * CommonJS runtime rejects.
 */
export function createGmailClient(auth: OAuth2Client | GoogleAuth, rootUrl: string): gmail_v1.Gmail {
  return google.gmail({ version: 'v1', auth, rootUrl: `${rootUrl.replace(/\/+$/, '')}/`, retry: false, fetchImplementation: fetch });
}

/** One Gmail client per key (a mailbox or impersonated address), built on first use and kept so access tokens are reused. */
export class GmailClientCache {
  private readonly clients = new Map<string, gmail_v1.Gmail>();

  constructor(private readonly build: (key: string) => gmail_v1.Gmail) {}

  get(key: string): gmail_v1.Gmail {
    let client = this.clients.get(key);
    if (!client) {
      client = this.build(key);
      this.clients.set(key, client);
    }
    return client;
  }

  delete(key: string): void {
    this.clients.delete(key);
  }
}
