/**
 * Parsers of the credential and token store settings. Like the other setting
 * parsers, each throws a plain Error that names what is allowed, and the
 * config loader adds the variable's name. Key material and passwords never
 * reach a message.
 */

export const TOKEN_STORE_KINDS = ['sqlite', 'postgres'] as const;
export type TokenStoreKind = (typeof TOKEN_STORE_KINDS)[number];

/** OAuth scopes that GMAIL_SYNC_GMAIL_SCOPE selects by name. */
export const GMAIL_SCOPES = {
  readonly: 'https://www.googleapis.com/auth/gmail.readonly',
  modify: 'https://www.googleapis.com/auth/gmail.modify',
} as const;
export type GmailScopeName = keyof typeof GMAIL_SCOPES;
export const GMAIL_SCOPE_NAMES = Object.keys(GMAIL_SCOPES) as GmailScopeName[];

/** Parses a PostgreSQL connection string, `postgres://user:password@host:port/database`. */
export function parsePostgresUrl(raw: string): string {
  let url: URL | undefined;
  try {
    url = new URL(raw.trim());
  } catch {
    url = undefined;
  }
  if (!url || !['postgres:', 'postgresql:'].includes(url.protocol) || url.hostname === '') {
    throw new Error('a connection string such as postgres://gmail_sync:password@db.example.com:5432/gmail_sync');
  }
  return raw.trim();
}
