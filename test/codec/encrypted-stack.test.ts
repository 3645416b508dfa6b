/**
 * Payload encryption end to end: the dev stack with GMAIL_SYNC_PAYLOAD_ENCRYPTION
 * on syncs a mailbox, and the histories it leaves in Temporal are read back
 * raw, without the codec, and searched for mail data and secrets.
 */
import { randomBytes, randomUUID } from 'node:crypto';

import { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';

import { ENCRYPTED_ENCODING } from '../../src/codec/encryption-codec';
import type { MailboxState } from '../../workflows/mailbox/types';
import { API_TOKEN, eventually, startDevStack, type DevStack } from '../e2e/dev-stack-harness';

type History = temporal.api.history.v1.IHistory;
type Payload = temporal.api.common.v1.IPayload;

/**
 * Returns the forms in which `text` can appear inside a byte string: its UTF-8
 * bytes, and its base64 and base64url encodings at each of the three byte
 * alignments, trimmed to the characters that depend on `text` alone.
 */
function encodedForms(text: string): string[] {
  const bytes = Buffer.from(text, 'utf8');
  const forms = [text];
  for (let offset = 0; offset < 3; offset++) {
    const encoded = Buffer.concat([Buffer.alloc(offset), bytes]).toString('base64');
    const core = encoded.slice(Math.ceil((offset * 8) / 6), Math.floor(((offset + bytes.length) * 8) / 6));
    forms.push(core, core.replace(/\+/g, '-').replace(/\//g, '_'));
  }
  return forms;
}

/** Returns which forms of which needles occur in `haystack`, as `needle (form)` lines. */
function findAll(haystack: Buffer, needles: string[]): string[] {
  const text = haystack.toString('latin1');
  const found: string[] = [];
  for (const needle of needles) {
    for (const form of encodedForms(needle)) {
      if (text.includes(Buffer.from(form, 'utf8').toString('latin1'))) {
        found.push(`${needle} (${form})`);
      }
    }
  }
  return found;
}

/**
 * Returns the paths of every string and byte field of `value` that contains a
 * form of `needle`, such as `events.0.workflowExecutionStartedEventAttributes.workflowId`.
 */
function locate(value: unknown, needle: string, path = ''): string[] {
  const forms = encodedForms(needle).map((form) => Buffer.from(form, 'utf8').toString('latin1'));
  const contains = (text: string): boolean => forms.some((form) => text.includes(form));
  if (typeof value === 'string') {
    return contains(value) ? [path] : [];
  }
  if (value instanceof Uint8Array) {
    return contains(Buffer.from(value).toString('latin1')) ? [path] : [];
  }
  if (value === null || typeof value !== 'object') {
    return [];
  }
  return Object.entries(value).flatMap(([key, child]) => locate(child, needle, path === '' ? key : `${path}.${key}`));
}

const isPayload = (value: object): value is Payload => 'metadata' in value && 'data' in value;

/**
 * Collects the payloads of a history that pass through the codec. Search
 * attribute values are left out, because Temporal indexes them and never
 * passes them through a codec. The `data` of a local activity marker is left
 * out too, because the Core SDK writes that bookkeeping (sequence number,
 * attempt, activity type, times) itself.
 */
function codecPayloads(value: unknown, into: Payload[] = []): Payload[] {
  if (value === null || typeof value !== 'object' || value instanceof Uint8Array) {
    return into;
  }
  if (isPayload(value)) {
    into.push(value);
    return into;
  }
  const localActivityMarker = (value as { markerName?: unknown }).markerName === 'core_local_activity';
  for (const [key, child] of Object.entries(value)) {
    if (key === 'searchAttributes') {
      continue;
    }
    if (localActivityMarker && key === 'details') {
      for (const [detail, payloads] of Object.entries(child as object)) {
        if (detail !== 'data') {
          codecPayloads(payloads, into);
        }
      }
      continue;
    }
    codecPayloads(child, into);
  }
  return into;
}

function encodingOf(payload: Payload): string {
  return Buffer.from(payload.metadata?.encoding ?? []).toString('utf8');
}

describe('payload encryption end to end', () => {
  let stack: DevStack;
  let plainClient: Client;
  let emailAddress: string;
  const subject = `marker-subject-${randomUUID()}`;
  const sender = `sender-${randomUUID().slice(0, 8)}@example.org`;

  beforeAll(async () => {
    stack = await startDevStack({
      GMAIL_SYNC_PAYLOAD_ENCRYPTION: 'on',
      GMAIL_SYNC_PAYLOAD_KEYS: `e2e-1:${randomBytes(32).toString('base64')}`,
    });
    plainClient = new Client({ connection: stack.env.connection });

    // A mailbox starts over the API, receives one message and is synced once more on request.
    emailAddress = `enc-${randomUUID().slice(0, 8)}@example.com`;
    stack.sandbox.createMailbox({ emailAddress, historyId: '5000' });
    const started = await stack.apiCall('POST', '/v1/mailboxes', { emailAddress });
    expect(started.status).toBe(201);
    await eventually(async () => (await stack.mailboxState(emailAddress)).historyId !== null);
    const messageId = stack.sandbox.deliverMessage(emailAddress, { from: sender, subject }).id;
    stack.sandbox.advanceClock(1100);
    await eventually(() => Promise.resolve(stack.delivery.messageIds(emailAddress).includes(messageId)));
    const synced = await stack.apiCall('POST', `/v1/mailboxes/${emailAddress}/sync`);
    expect(synced.status).toBeLessThan(300);
  });

  afterAll(async () => {
    await stack?.teardown();
  });

  async function histories(): Promise<Map<string, History>> {
    const result = new Map<string, History>();
    for await (const execution of plainClient.workflow.list({ query: `TaskQueue = "${stack.config.taskQueue}"` })) {
      const history = await plainClient.workflow.getHandle(execution.workflowId, execution.runId).fetchHistory();
      result.set(`${execution.workflowId} ${execution.runId}`, history);
    }
    return result;
  }

  it('leaves no mail data or secret in any history', async () => {
    const all = await histories();

    expect([...all.keys()].some((key) => key.startsWith(`gmail-mailbox/${emailAddress} `))).toBe(true);
    for (const [execution, history] of all) {
      const bytes = Buffer.from(temporal.api.history.v1.History.encode(history).finish());

      // Subject, the From header and refresh tokens appear nowhere, ids and search attributes included.
      expect({ execution, found: findAll(bytes, [subject, sender, 'sandbox-refresh:']) }).toEqual({ execution, found: [] });

      // Every payload that passes through the codec is encrypted.
      const codec = codecPayloads(history);
      expect(codec.length).toBeGreaterThan(0);
      expect({ execution, encodings: [...new Set(codec.map(encodingOf))] }).toEqual({ execution, encodings: [ENCRYPTED_ENCODING] });

      // The mailbox address appears only in workflow ids and search attributes, which Temporal keeps in clear.
      const exposed = locate(history, emailAddress).filter((path) => !path.endsWith('.workflowId') && !path.includes('.searchAttributes.'));
      expect({ execution, exposed }).toEqual({ execution, exposed: [] });
    }
  });

  it('reads the state query with the codec only', async () => {
    const workflowId = `gmail-mailbox/${emailAddress}`;

    const state = await stack.client.workflow.getHandle(workflowId).query<MailboxState>('state');

    expect(state.status).toBe('watching');
    expect(state.historyId).toBe(stack.sandbox.getMailbox(emailAddress).historyId);
    await expect(plainClient.workflow.getHandle(workflowId).query('state')).rejects.toThrow(/binary\/encrypted/);
  });

  it('decodes a history payload through /codec for the API token', async () => {
    const history = await plainClient.workflow.getHandle(`gmail-mailbox/${emailAddress}`).fetchHistory();
    const input = history.events?.[0].workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
    const body = JSON.stringify({
      payloads: [
        {
          metadata: Object.fromEntries(Object.entries(input?.metadata ?? {}).map(([key, value]) => [key, Buffer.from(value).toString('base64')])),
          data: Buffer.from(input?.data ?? []).toString('base64'),
        },
      ],
    });
    const decode = (headers: Record<string, string>): Promise<Response> =>
      fetch(`${stack.apiUrl}/codec/decode`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });

    const denied = await decode({});
    const decoded = await decode({ authorization: `Bearer ${API_TOKEN}`, origin: 'http://localhost:8233' });

    expect(denied.status).toBe(401);
    expect((await decode({ authorization: 'Bearer not-the-api-token-at-all' })).status).toBe(401);
    expect(decoded.status).toBe(200);
    expect(decoded.headers.get('access-control-allow-origin')).toBe('http://localhost:8233');
    const [plain] = ((await decoded.json()) as { payloads: { metadata: Record<string, string>; data: string }[] }).payloads;
    expect(Buffer.from(plain.metadata.encoding, 'base64').toString('utf8')).toBe('json/plain');
    expect(JSON.parse(Buffer.from(plain.data, 'base64').toString('utf8'))).toMatchObject({ emailAddress });

    // The Temporal UI cannot send the API token, so an operator signs in once and the UI sends the cookie.
    const login = await fetch(`${stack.apiUrl}/codec/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: API_TOKEN }).toString(),
    });
    const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0];
    expect(login.status).toBe(200);
    expect((await decode({ cookie, origin: 'http://localhost:8233' })).status).toBe(200);
  });

  it('allows CORS only for listed origins', async () => {
    const preflight = (origin: string): Promise<Response> =>
      fetch(`${stack.apiUrl}/codec/decode`, {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type, x-namespace' },
      });

    const allowed = await preflight('http://127.0.0.1:8233');
    const other = await preflight('http://evil.example');

    expect(allowed.status).toBe(204);
    expect(allowed.headers.get('access-control-allow-origin')).toBe('http://127.0.0.1:8233');
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
  });
});
