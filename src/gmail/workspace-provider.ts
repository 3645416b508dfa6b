import { GoogleAuth, JWT } from 'google-auth-library';
import type { gmail_v1 } from 'googleapis';

import type { CredentialRef } from '../../workflows/mailbox/types';
import { createGmailClient, GmailClientCache } from './gmail-client';
import type { GmailProvider } from './provider';

/** The token URL that gtoken 8 (inside google-auth-library 10) posts service account assertions to, fixed in its code. */
const GTOKEN_TOKEN_URL = 'https://oauth2.googleapis.com/token';

export interface WorkspaceProviderOptions {
  /** Service account JSON key; without it, Application Default Credentials. */
  keyFile?: string;
  /** The OAuth scope, gmail.readonly or gmail.modify. */
  scope: string;
  /**
   * Token endpoint that assertions go to. gtoken always signs them for
   * Google's URL (`aud`), so a stand-in endpoint must accept that audience.
   */
  tokenUrl: string;
  /** Root URL of the Gmail API. */
  gmailApiUrl: string;
}

/**
 * Gmail clients for Google Workspace mailboxes: a service account with
 * domain-wide delegation impersonates each mailbox (`sub` of the JWT
 * assertion is the mailbox address, or `credential.id` when set). One client
 * per mailbox is kept, so access tokens are reused until they expire.
 * With a key file, assertions go to `tokenUrl`. Without one, GoogleAuth
 * resolves Application Default Credentials, which talk to Google directly.
 */
export function createWorkspaceGmailProvider(options: WorkspaceProviderOptions): GmailProvider {
  const clients = new GmailClientCache((subject) => {
    if (options.keyFile === undefined) {
      // NOTE: domain-wide delegation needs a service account key here too (GOOGLE_APPLICATION_CREDENTIALS);
      // metadata-server credentials cannot sign for a subject. This path is documented, not exercised by the tests.
      const auth = new GoogleAuth({ scopes: [options.scope], clientOptions: { subject, transporterOptions: { fetchImplementation: fetch } } });
      return createGmailClient(auth, options.gmailApiUrl);
    }
    const auth = new JWT({ keyFile: options.keyFile, scopes: [options.scope], subject, transporterOptions: { fetchImplementation: fetch } });
    if (options.tokenUrl !== GTOKEN_TOKEN_URL) {
      const tokenUrl = new URL(options.tokenUrl);
      auth.transporter.interceptors.request.add({
        resolved: (request) => {
          if (request.url.toString() === GTOKEN_TOKEN_URL) {
            request.url = tokenUrl;
          }
          return Promise.resolve(request);
        },
      });
    }
    return createGmailClient(auth, options.gmailApiUrl);
  });

  return {
    client(emailAddress: string, credential: CredentialRef): gmail_v1.Gmail {
      return clients.get((credential.id ?? emailAddress).toLowerCase());
    },
  };
}
