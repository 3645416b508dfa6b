/**
 * `npm run sandbox:deliver -- <emailAddress> [options]`: delivers a new message
 * to a running Gmail sandbox, which writes its history record and sends the
 * push notification, and prints `{id, threadId, historyId}`.
 */
import { parseArgs } from 'node:util';

const HELP = `Usage: npm run sandbox:deliver -- <emailAddress> [options]

  --subject TEXT     Subject header
  --from TEXT        From header, e.g. "Bob <bob@example.com>"
  --label ID         label of the new message; repeat for several (default INBOX, UNREAD, CATEGORY_PERSONAL)
  --count N          deliver N messages (default 1)
  --url URL          sandbox base URL (default $GMAIL_SYNC_GMAIL_SANDBOX_URL or http://127.0.0.1:3001)
`;

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      subject: { type: 'string' },
      from: { type: 'string' },
      label: { type: 'string', multiple: true },
      count: { type: 'string', default: '1' },
      url: { type: 'string', default: process.env.GMAIL_SYNC_GMAIL_SANDBOX_URL ?? 'http://127.0.0.1:3001' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help || positionals.length !== 1) {
    process.stdout.write(HELP);
    process.exitCode = values.help ? 0 : 2;
    return;
  }
  const count = Number(values.count);
  if (!Number.isInteger(count) || count < 1) {
    throw new Error(`invalid --count ${values.count}: expected a positive integer`);
  }

  const url = `${values.url.replace(/\/$/, '')}/sandbox/mailboxes/${encodeURIComponent(positionals[0])}/messages`;
  const body = JSON.stringify({ subject: values.subject, from: values.from, labelIds: values.label });
  for (let index = 0; index < count; index += 1) {
    const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    const text = await response.text();
    if (!response.ok) {
      throw new Error(`the sandbox rejected the message with HTTP ${response.status}: ${text}`);
    }
    process.stdout.write(`${text}\n`);
  }
}

main().catch((error: unknown) => {
  // fetch reports a refused connection as a TypeError whose cause contains the reason.
  const cause = error instanceof Error && error.cause instanceof Error ? ` (${error.cause.message}); is the sandbox running?` : '';
  process.stderr.write(`delivering failed: ${error instanceof Error ? error.message : String(error)}${cause}\n`);
  process.exit(1);
});
