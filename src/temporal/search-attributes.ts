import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import type { Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { status } from '@grpc/grpc-js';

/** The mailbox's address as Gmail returns it, lower-cased. */
export const GMAIL_EMAIL_ADDRESS = defineSearchAttributeKey('GmailEmailAddress', SearchAttributeType.KEYWORD);
/** One of watching, polling, needs-reauth, stopped. */
export const GMAIL_SYNC_STATUS = defineSearchAttributeKey('GmailSyncStatus', SearchAttributeType.KEYWORD);

export const SEARCH_ATTRIBUTES = [GMAIL_EMAIL_ADDRESS, GMAIL_SYNC_STATUS];

/** `--search-attribute` arguments for `temporal server start-dev`. */
export function devServerSearchAttributeArgs(): string[] {
  return SEARCH_ATTRIBUTES.flatMap((key) => ['--search-attribute', `${key.name}=Keyword`]);
}

/**
 * Registers gmail-sync's search attributes through the operator service and
 * returns the names it added. Safe to repeat: attributes that already exist
 * are left alone.
 */
export async function registerSearchAttributes(connection: Connection, namespace: string): Promise<string[]> {
  const missing = await missingSearchAttributes(connection, namespace);
  if (missing.length === 0) {
    return [];
  }
  try {
    await connection.operatorService.addSearchAttributes({
      namespace,
      searchAttributes: Object.fromEntries(
        missing.map((key) => [key.name, temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD]),
      ),
    });
  } catch (error) {
    if ((error as { code?: number }).code !== status.ALREADY_EXISTS) {
      throw error;
    }
    return [];
  }
  return missing.map((key) => key.name);
}

/**
 * Lists which of gmail-sync's attributes the server lacks. Temporal's Java
 * test server does not implement ListSearchAttributes, so there every
 * attribute counts as missing and AddSearchAttributes decides.
 */
async function missingSearchAttributes(connection: Connection, namespace: string): Promise<typeof SEARCH_ATTRIBUTES> {
  try {
    const existing = await connection.operatorService.listSearchAttributes({ namespace });
    const known = { ...existing.customAttributes, ...existing.systemAttributes };
    return SEARCH_ATTRIBUTES.filter((key) => !(key.name in known));
  } catch (error) {
    if ((error as { code?: number }).code === status.UNIMPLEMENTED) {
      return SEARCH_ATTRIBUTES;
    }
    throw error;
  }
}
