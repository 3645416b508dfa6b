import { createHmac, timingSafeEqual } from 'node:crypto';

export const DELIVERY_ID_HEADER = 'Gmail-Sync-Delivery-Id';
export const TIMESTAMP_HEADER = 'Gmail-Sync-Timestamp';
export const SIGNATURE_HEADER = 'Gmail-Sync-Signature';

/**
 * Computes a webhook's signature header value: `v1=` and the hex
 * HMAC-SHA256, keyed with the signing secret, of `<timestamp>.<body>`, where
 * the timestamp is the Gmail-Sync-Timestamp header (Unix seconds) and the
 * body is the raw request body.
 */
export function webhookSignature(secret: string, timestamp: string, body: string): string {
  return `v1=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/** Checks a received signature in constant time; receivers should also reject old timestamps. */
export function verifyWebhookSignature(secret: string, timestamp: string, body: string, signature: string): boolean {
  const expected = Buffer.from(webhookSignature(secret, timestamp, body));
  const received = Buffer.from(signature);
  return expected.length === received.length && timingSafeEqual(expected, received);
}
