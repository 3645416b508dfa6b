import type { CredentialRef } from '../../workflows/mailbox/types';
import { callGmail } from './errors';
import type { GmailProvider } from './provider';

/**
 * Returns the address Gmail itself reports for a mailbox (getProfile's
 * emailAddress, lower-cased), so that aliases and dotted variants start or
 * reach the same workflow. Gmail errors are thrown as typed ApplicationFailures
 * (AuthRevoked, RateLimited, InvalidRequest and so on).
 */
export async function resolveMailboxAddress(provider: GmailProvider, address: string, credential: CredentialRef): Promise<string> {
  const gmail = provider.client(address, credential);
  const profile = await callGmail('getProfile', () => gmail.users.getProfile({ userId: 'me' }));
  const emailAddress = profile.data.emailAddress;
  if (!emailAddress) {
    throw new Error(`Gmail getProfile returned no emailAddress for ${address}.`);
  }
  return emailAddress.toLowerCase();
}
