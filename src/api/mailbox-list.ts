/**
 * Lists mailbox workflows from Temporal visibility, one page at a time. The
 * client's `workflow.list()` iterator hides the page token, so this calls
 * ListWorkflowExecutions directly and hands the token to the API caller.
 */
import type { Client } from '@temporalio/client';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import { optionalTsToMs } from '@temporalio/common/lib/time';
import { temporal } from '@temporalio/proto';

import { MAILBOX_WORKFLOW_TYPE } from '../temporal/mailbox-client';
import { GMAIL_EMAIL_ADDRESS, GMAIL_SYNC_STATUS } from '../temporal/search-attributes';
import { visibilityString } from '../temporal/visibility-query';
import { requirePageToken, signPageToken } from './page-token';
import type { ListMailboxesQuery } from './schemas';

export interface MailboxSummary {
  emailAddress: string;
  workflowId: string;
  runId: string;
  status: string | null;
  executionStatus: string;
  startTime: string | null;
  closeTime: string | null;
}

export interface MailboxPage {
  mailboxes: MailboxSummary[];
  nextPageToken: string | null;
}

/**
 * Builds the visibility query. Values were validated by the route schema:
 * statuses contain no quote characters, and an address, which may contain an
 * apostrophe, is quoted with visibilityString.
 */
export function mailboxListQuery(filter: Pick<ListMailboxesQuery, 'status' | 'emailAddress'>): string {
  const clauses = [`WorkflowType = '${MAILBOX_WORKFLOW_TYPE}'`];
  if (filter.status !== undefined) {
    clauses.push(`${GMAIL_SYNC_STATUS.name} = '${filter.status}'`);
  }
  if (filter.emailAddress !== undefined) {
    clauses.push(`${GMAIL_EMAIL_ADDRESS.name} = ${visibilityString(filter.emailAddress.toLowerCase())}`);
  }
  return clauses.join(' AND ');
}

function keyword(fields: Record<string, Payload> | null | undefined, name: string): string | null {
  const payload = fields?.[name];
  if (!payload) {
    return null;
  }
  const value = defaultPayloadConverter.fromPayload<unknown>(payload);
  return typeof value === 'string' ? value : Array.isArray(value) && typeof value[0] === 'string' ? value[0] : null;
}

function isoTime(ts: Parameters<typeof optionalTsToMs>[0]): string | null {
  const ms = optionalTsToMs(ts);
  return ms === undefined ? null : new Date(ms).toISOString();
}

const STATUS_NAMES = temporal.api.enums.v1.WorkflowExecutionStatus;

/**
 * Lists one page of mailboxes. The caller sets the deadline. A page token
 * that this API did not issue is rejected before Temporal is called.
 */
export async function listMailboxes(client: Client, namespace: string, query: ListMailboxesQuery, pageTokenKey: Buffer): Promise<MailboxPage> {
  const nextPageToken = requirePageToken(pageTokenKey, query.pageToken);

  const response = await client.workflowService.listWorkflowExecutions({
    namespace,
    pageSize: query.pageSize,
    nextPageToken,
    query: mailboxListQuery(query),
  });

  const mailboxes = (response.executions ?? []).map((execution): MailboxSummary => {
    const fields = execution.searchAttributes?.indexedFields as Record<string, Payload> | null | undefined;
    const workflowId = execution.execution?.workflowId ?? '';
    return {
      emailAddress: keyword(fields, GMAIL_EMAIL_ADDRESS.name) ?? workflowId.replace(/^gmail-mailbox\//, ''),
      workflowId,
      runId: execution.execution?.runId ?? '',
      status: keyword(fields, GMAIL_SYNC_STATUS.name),
      executionStatus: (STATUS_NAMES[execution.status ?? 0] ?? 'UNSPECIFIED').replace(/^WORKFLOW_EXECUTION_STATUS_/, ''),
      startTime: isoTime(execution.startTime),
      closeTime: isoTime(execution.closeTime),
    };
  });
  const token = response.nextPageToken;
  return { mailboxes, nextPageToken: token && token.length > 0 ? signPageToken(pageTokenKey, token) : null };
}
