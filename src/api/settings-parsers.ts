/**
 * Parsers for the API and ingest settings. Like the shared parsers, each
 * returns the value or throws an Error whose message states what is allowed.
 */
import { isEmailAddress } from '../ingest/email-address';

/** Parses an absolute http or https URL. */
export function parseHttpUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    throw new Error('an absolute http or https URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new Error('an absolute http or https URL');
  }
  return url.toString();
}

/** Parses an email address, for example a service account's. */
export function parseEmailAddress(raw: string): string {
  const value = raw.trim();
  if (!isEmailAddress(value)) {
    throw new Error('an email address such as gmail-push@my-project.iam.gserviceaccount.com');
  }
  return value;
}

/** Parses a Pub/Sub subscription name, `projects/{project}/subscriptions/{subscription}`. */
export function parseSubscriptionName(raw: string): string {
  const value = raw.trim();
  if (!/^projects\/[^/\s]+\/subscriptions\/[^/\s]+$/.test(value)) {
    throw new Error('a subscription name of the form projects/{project}/subscriptions/{subscription}');
  }
  return value;
}

/** A Pub/Sub topic name, `projects/{project}/topics/{topic}`, without spaces, for the setting and the start request alike. */
export const TOPIC_NAME_PATTERN = '^projects/[^/\\s]+/topics/[^/\\s]+$';

/** Parses a Pub/Sub topic name, `projects/{project}/topics/{topic}`. */
export function parseTopicName(raw: string): string {
  const value = raw.trim();
  if (!new RegExp(TOPIC_NAME_PATTERN).test(value)) {
    throw new Error('a topic name of the form projects/{project}/topics/{topic}');
  }
  return value;
}

/**
 * Credential providers a mailbox can name: `sandbox` is the local Gmail
 * sandbox, `oauth` a stored refresh token from the consent flow, `workspace`
 * a service account impersonating the mailbox.
 */
export const CREDENTIAL_PROVIDERS = ['sandbox', 'oauth', 'workspace'] as const;

/** Parses an API token: at least 16 characters without whitespace. */
export function parseApiToken(raw: string): string {
  if (!/^\S{16,}$/.test(raw)) {
    throw new Error('at least 16 characters without whitespace');
  }
  return raw;
}
