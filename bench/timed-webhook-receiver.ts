import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import { DELIVERY_ID_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, verifyWebhookSignature } from '../src/delivery/signature';

/** When a message's first webhook request was read: `performance.now()` and `Date.now()` milliseconds. */
export interface Arrival {
  at: number;
  wallAt: number;
}

/** How long `waitFor` waits for a message before it fails. */
const WAIT_TIMEOUT_MS = 30_000;

/**
 * A webhook target on a free loopback port that responds 200 at once, checks
 * each signature, and records when each message first arrived.
 */
export class TimedWebhookReceiver {
  url = '';
  badSignatures = 0;
  private server!: Server;
  private readonly arrivals = new Map<string, Arrival>();
  private readonly deliveryIds = new Map<string, number>();
  private readonly waiters = new Map<string, (arrival: Arrival) => void>();

  constructor(private readonly secret: string) {}

  async start(): Promise<this> {
    this.server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const arrival = { at: performance.now(), wallAt: Date.now() };
        const body = Buffer.concat(chunks).toString('utf8');
        const header = (name: string) => String(request.headers[name.toLowerCase()] ?? '');
        if (!verifyWebhookSignature(this.secret, header(TIMESTAMP_HEADER), body, header(SIGNATURE_HEADER))) {
          this.badSignatures += 1;
        }
        const deliveryId = header(DELIVERY_ID_HEADER);
        this.deliveryIds.set(deliveryId, (this.deliveryIds.get(deliveryId) ?? 0) + 1);
        const messageId = (JSON.parse(body) as { messageId?: string }).messageId;
        if (messageId !== undefined && !this.arrivals.has(messageId)) {
          this.arrivals.set(messageId, arrival);
          this.waiters.get(messageId)?.(arrival);
        }
        response.writeHead(200).end();
      });
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/gmail-events`;
    return this;
  }

  /** Resolves with the message's arrival, at once when it already arrived; rejects after 30 s. */
  waitFor(messageId: string): Promise<Arrival> {
    const known = this.arrivals.get(messageId);
    if (known) {
      return Promise.resolve(known);
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(messageId);
        reject(new Error(`message ${messageId} did not reach the webhook within ${WAIT_TIMEOUT_MS} ms`));
      }, WAIT_TIMEOUT_MS);
      this.waiters.set(messageId, (arrival) => {
        clearTimeout(timer);
        this.waiters.delete(messageId);
        resolve(arrival);
      });
    });
  }

  /** Distinct messages received. */
  count(): number {
    return this.arrivals.size;
  }

  /** Requests beyond the first for each delivery id. */
  duplicates(): number {
    return [...this.deliveryIds.values()].reduce((sum, seen) => sum + seen - 1, 0);
  }

  stop(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
