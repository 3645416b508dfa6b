import type { Mailbox } from '../mailbox';
import type { StoredMessage } from '../mailbox-data';
import { readEnum, readList, type Query } from './query-params';

const FORMATS = ['minimal', 'full', 'raw', 'metadata'] as const;

/**
 * Serves users.messages.get in the formats Gmail offers. `minimal` has ids,
 * labels, snippet, sizes and dates. `metadata` adds the payload headers, only
 * those named in metadataHeaders when given. `full` adds the body, and `raw`
 * returns the RFC 2822 message as base64url.
 */
export function getMessage(mailbox: Mailbox, messageId: string, query: Query): Record<string, unknown> {
  const format = readEnum(query, 'format', FORMATS, 'full');
  const metadataHeaders = readList(query, 'metadataHeaders').map((name) => name.toLowerCase());
  const message = mailbox.getMessage(messageId);
  const rfc822 = toRfc822(mailbox.emailAddress, message);

  const resource: Record<string, unknown> = {
    id: message.id,
    threadId: message.threadId,
    labelIds: [...message.labelIds],
    snippet: message.body.slice(0, 100),
    sizeEstimate: Buffer.byteLength(rfc822),
    historyId: message.historyId,
    internalDate: String(message.internalDate),
  };
  if (format === 'raw') {
    resource.raw = Buffer.from(rfc822).toString('base64url');
  } else if (format === 'metadata') {
    const headers = buildHeaders(mailbox.emailAddress, message);
    resource.payload = {
      mimeType: 'text/plain',
      headers: metadataHeaders.length > 0 ? headers.filter((header) => metadataHeaders.includes(header.name.toLowerCase())) : headers,
    };
  } else if (format === 'full') {
    const data = Buffer.from(message.body).toString('base64url');
    resource.payload = {
      partId: '',
      mimeType: 'text/plain',
      filename: '',
      headers: buildHeaders(mailbox.emailAddress, message),
      body: { size: Buffer.byteLength(message.body), data },
    };
  }
  return resource;
}

function buildHeaders(to: string, message: StoredMessage): { name: string; value: string }[] {
  return [
    { name: 'From', value: message.from },
    { name: 'To', value: to },
    { name: 'Subject', value: message.subject },
    { name: 'Date', value: new Date(message.internalDate).toUTCString().replace('GMT', '+0000') },
    { name: 'Message-ID', value: `<${message.id}@sandbox.gmail-sync.invalid>` },
    { name: 'Content-Type', value: 'text/plain; charset="UTF-8"' },
  ];
}

function toRfc822(to: string, message: StoredMessage): string {
  const head = buildHeaders(to, message).map((header) => `${header.name}: ${header.value}`).join('\r\n');
  return `${head}\r\n\r\n${message.body}\r\n`;
}
