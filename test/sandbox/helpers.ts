import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import { OAuth2Client } from 'google-auth-library';
import { google, type gmail_v1 } from 'googleapis';

import type { Sandbox } from '../../src/sandbox';

/**
 * Creates google-auth-library's OAuth2Client pointed at the sandbox's token
 * endpoint. gaxios 7 loads node-fetch through a dynamic import(), which Jest's
 * CommonJS runtime rejects (ERR_VM_DYNAMIC_IMPORT_CALLBACK_MISSING_FLAG). So
 * tests hand it Node's built-in fetch, and requests still go over real HTTP.
 */
export function sandboxOAuthClient(sandbox: Sandbox): OAuth2Client {
  return new OAuth2Client({ endpoints: { oauth2TokenUrl: sandbox.tokenUrl }, transporterOptions: { fetchImplementation: fetch } });
}

/** Creates the googleapis Gmail client pointed at the sandbox, as the product builds it. */
export function gmailClient(sandbox: Sandbox, emailAddress: string): gmail_v1.Gmail {
  const auth = sandboxOAuthClient(sandbox);
  auth.setCredentials({ refresh_token: sandbox.refreshTokenFor(emailAddress) });
  return google.gmail({ version: 'v1', auth, rootUrl: `${sandbox.url}/`, retry: false });
}

/** Runs a Gmail call that must fail and returns its HTTP status, body and headers. */
export async function gmailFailure(call: Promise<unknown>): Promise<{ status: number; body: unknown; headers: Record<string, string> }> {
  try {
    await call;
  } catch (error) {
    const response = (error as { response?: { status: number; data: unknown; headers: Headers | Record<string, string> } }).response;
    if (response) {
      const headers = response.headers instanceof Headers ? Object.fromEntries(response.headers.entries()) : response.headers;
      return { status: response.status, body: response.data, headers };
    }
    throw error;
  }
  throw new Error('expected the Gmail call to fail, but it succeeded');
}

export interface ReceivedPush {
  headers: IncomingHttpHeaders;
  body: string;
  status: number;
}

/** A push endpoint that records each request and responds with the next queued status (204 when none). */
export class PushReceiver {
  readonly received: ReceivedPush[] = [];
  readonly statuses: number[] = [];
  private server!: Server;
  url = '';

  async start(): Promise<this> {
    this.server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const status = this.statuses.shift() ?? 204;
        this.received.push({ headers: request.headers, body: Buffer.concat(chunks).toString('utf8'), status });
        response.writeHead(status).end();
      });
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/pubsub/push`;
    return this;
  }

  /** Waits until at least `count` requests arrived; the test's timeout bounds the wait. */
  async waitFor(count: number): Promise<ReceivedPush[]> {
    while (this.received.length < count) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    return this.received;
  }

  stop(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/** Decodes a wrapped push body's message data to text. */
export function pushData(push: ReceivedPush): string {
  const envelope = JSON.parse(push.body) as { message: { data: string } };
  return Buffer.from(envelope.message.data, 'base64').toString('utf8');
}

/** Keys of every object in a JSON value with their value types, to compare shapes with a fixture. */
export function shapeOf(value: unknown): unknown {
  if (Array.isArray(value)) {
    return value.length > 0 ? [shapeOf(value[0])] : [];
  }
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.keys(value).sort().map((key) => [key, shapeOf((value as Record<string, unknown>)[key])]));
  }
  return typeof value;
}
