import { attemptSummary } from '../../workflows/delivery/workflow';
import type { DeliveryWorkflowInput } from '../../workflows/delivery/types';

const input: DeliveryWorkflowInput = {
  emailAddress: 'user@example.com',
  messageId: '18f0a1b2c3d4e5f6',
  deliveryId: 'user@example.com/18f0a1b2c3d4e5f6',
  credential: { provider: 'sandbox' },
  delivery: { target: 'webhook', webhookUrl: 'https://receiver.example.com/hook?key=secret', webhookSecretRef: 'BILLING' },
  retry: { initialIntervalMs: 1000, backoffCoefficient: 2, maximumIntervalMs: 60_000, maximumAttempts: 5, scheduleToCloseMs: 600_000, attemptTimeoutMs: 10_000 },
};

describe('deliveryWorkflow attempt summary', () => {
  it('names the message and target kind', () => {
    expect(attemptSummary(input)).toBe('messages.get and deliver 18f0a1b2c3d4e5f6 to the webhook target');
  });

  it('counts the events of a batch', () => {
    const events = [
      { kind: 'labelsAdded' as const, deliveryId: 'a', messageId: 'm1', labelIds: ['STARRED'] },
      { kind: 'messageDeleted' as const, deliveryId: 'b', messageId: 'm2' },
    ];

    expect(attemptSummary({ ...input, messageId: 'batch-0a1b2c', events })).toBe('deliver batch batch-0a1b2c (2 label and deletion events) to the webhook target');
  });

  it('names the default target without one', () => {
    expect(attemptSummary({ ...input, delivery: undefined })).toBe('messages.get and deliver 18f0a1b2c3d4e5f6 to the default target');
  });

  it('leaves out the webhook URL', () => {
    expect(attemptSummary(input)).not.toContain('receiver.example.com');
  });
});
