import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * How the receiver handles one request: respond with a status, process it and
 * then drop the connection, respond 200 after a delay, or respond 200 once
 * `release` resolves.
 */
export type WebhookReaction = number | 'drop-after-processing' | { delayMs: number } | { release: Promise<void> };

export interface ReceivedWebhook {
  headers: IncomingHttpHeaders;
  body: string;
  deliveryId: string;
}

/** A webhook target on a free loopback port that records each request and reacts with the next queued reaction (200 when none). */
export class WebhookReceiver {
  readonly received: ReceivedWebhook[] = [];
  readonly reactions: WebhookReaction[] = [];
  private server!: Server;
  url = '';

  /** Chooses the reaction to a request: by default the next queued reaction, or 200 when none is queued. Tests replace it to react per message. */
  chooseReaction: (request: ReceivedWebhook) => WebhookReaction = () => this.reactions.shift() ?? 200;

  async start(): Promise<this> {
    this.server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const received: ReceivedWebhook = { headers: request.headers, body, deliveryId: String(request.headers['gmail-sync-delivery-id']) };
        this.received.push(received);
        const reaction = this.chooseReaction(received);
        if (reaction === 'drop-after-processing') {
          request.socket.destroy();
        } else if (typeof reaction === 'number') {
          response.writeHead(reaction).end();
        } else if ('release' in reaction) {
          void reaction.release.then(() => response.writeHead(200).end());
        } else {
          setTimeout(() => response.writeHead(200).end(), reaction.delayMs).unref();
        }
      });
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/gmail-events`;
    return this;
  }

  /** Delivery ids of the received requests, in arrival order. */
  deliveryIds(): string[] {
    return this.received.map((request) => request.deliveryId);
  }

  stop(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
