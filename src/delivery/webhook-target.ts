import { DeliveryError, type Delivery, type DeliveryEvent, type EventBatch } from '../../activities/delivery';
import { DELIVERY_ID_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, webhookSignature } from './signature';

/**
 * POSTs each event as JSON to one URL, signed with the mailbox's signing
 * secret, and a batch of label and deletion events as one POST whose body is
 * the batch (`kind: 'batch'` and its `events`). The Gmail-Sync-Delivery-Id
 * header carries the event's or the batch's delivery id. 2xx is success. 408,
 * 429, 5xx and network errors are retryable, and any other status (redirects
 * included, which are not followed) is a permanent failure.
 */
export class WebhookDelivery implements Delivery {
  constructor(
    private readonly url: string,
    private readonly secret: string,
  ) {}

  deliver(event: DeliveryEvent, signal: AbortSignal): Promise<void> {
    return this.post(event, signal);
  }

  deliverBatch(batch: EventBatch, signal: AbortSignal): Promise<void> {
    return this.post(batch, signal);
  }

  private async post(event: DeliveryEvent | EventBatch, signal: AbortSignal): Promise<void> {
    const body = JSON.stringify(event);
    const timestamp = String(Math.floor(Date.now() / 1000));
    const response = await fetch(this.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        [DELIVERY_ID_HEADER]: event.deliveryId,
        [TIMESTAMP_HEADER]: timestamp,
        [SIGNATURE_HEADER]: webhookSignature(this.secret, timestamp, body),
      },
      body,
      signal,
      redirect: 'manual',
    });
    // Read the body so that the connection can be reused.
    await response.arrayBuffer();

    if (response.status >= 200 && response.status < 300) {
      return;
    }
    const retryable = response.status === 408 || response.status === 429 || response.status >= 500;
    throw new DeliveryError(`webhook returned HTTP ${response.status}`, retryable);
  }
}
