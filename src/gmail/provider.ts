import type { gmail_v1 } from 'googleapis';

import type { CredentialRef } from '../../workflows/mailbox/types';

/**
 * Builds Gmail API clients from a credential reference. Every activity gets
 * its client here, so the same code path talks to Gmail or to the sandbox.
 * Clients run with googleapis' own retries off, so that Temporal's retry
 * policy is the only one.
 */
export interface GmailProvider {
  /** A client authorised for `emailAddress`; calls use `userId: 'me'`. */
  client(emailAddress: string, credential: CredentialRef): gmail_v1.Gmail;
}

/**
 * Routes each credential reference to the provider of its kind; a kind with
 * no configured provider fails with a message that names the kind.
 */
export function createGmailProvider(providers: Partial<Record<CredentialRef['provider'], GmailProvider>>): GmailProvider {
  return {
    client(emailAddress, credential) {
      const provider = providers[credential.provider];
      if (!provider) {
        throw new Error(`No Gmail provider is configured for credential provider "${credential.provider}" (mailbox ${emailAddress}).`);
      }
      return provider.client(emailAddress, credential);
    },
  };
}
