import { OAuth2Client } from 'google-auth-library';
import type { gmail_v1 } from 'googleapis';

import type { CredentialRef } from '../../workflows/mailbox/types';
import { createGmailClient } from './gmail-client';
import type { GmailProvider } from './provider';

/** Prefix of the refresh tokens that the Gmail sandbox accepts for a mailbox. */
export const SANDBOX_REFRESH_PREFIX = 'sandbox-refresh:';

/**
 * Gmail clients for the local Gmail sandbox at `baseUrl`: OAuth tokens from
 * its `/token` endpoint with the refresh token `sandbox-refresh:<address>`
 * (or `credential.id` in place of the address), and the Gmail REST API under
 * `baseUrl`. One client per mailbox is kept, so access tokens are reused.
 * Both use Node's built-in fetch: gaxios otherwise loads node-fetch through a
 * dynamic import(), which Jest's CommonJS runtime rejects.
 */
export function createSandboxGmailProvider(baseUrl: string): GmailProvider {
  const root = baseUrl.replace(/\/+$/, '');
  const clients = new Map<string, gmail_v1.Gmail>();

  return {
    client(emailAddress: string, credential: CredentialRef): gmail_v1.Gmail {
      const subject = credential.id ?? emailAddress;
      let client = clients.get(subject);
      if (!client) {
        const auth = new OAuth2Client({
          clientId: 'gmail-sync-sandbox',
          clientSecret: 'gmail-sync-sandbox',
          endpoints: { oauth2TokenUrl: `${root}/token` },
          transporterOptions: { fetchImplementation: fetch },
          // A 401 refreshes the token and retries once, so a 401 that reaches
          // the error mapper has persisted after a refresh.
          // NOTE: google-auth-library 11 does the same on 403 (requestAsync
          // treats 401 and 403 alike), so every 403 reaches Gmail twice.
          forceRefreshOnFailure: true,
        });
        auth.setCredentials({ refresh_token: `${SANDBOX_REFRESH_PREFIX}${subject}` });
        client = createGmailClient(auth, root);
        clients.set(subject, client);
      }
      return client;
    },
  };
}
