import { loadConfig } from '../../src/config';
import { verifyWebhookSignature } from '../../src/delivery/signature';
import { createSandboxGmailProvider } from '../../src/gmail';
import { startMailbox } from '../../src/temporal/mailbox-client';
import { createWorker } from '../../src/worker';
import { notifySignal, stopUpdate } from '../../workflows/mailbox/messages';
import { mailboxWorkflowId } from '../../workflows/mailbox/types';
import { WebhookReceiver } from '../helpers/webhook-receiver';
import { createMailboxWorld, destroyMailboxWorld, waitForState, type MailboxWorld } from './mailbox-harness';

const SIGNING_SECRET = 'worker-signing-secret-billing';

describe('mailboxWorkflow with a webhook target', () => {
  let world: MailboxWorld;
  let receiver: WebhookReceiver;

  beforeAll(async () => {
    world = await createMailboxWorld();
    receiver = await new WebhookReceiver().start();
  }, 120_000);

  afterAll(async () => {
    await receiver?.stop();
    await destroyMailboxWorld(world);
  });

  it('delivers notified messages signed with the referenced secret', async () => {
    const emailAddress = 'webhook-worker@example.com';
    const taskQueue = 'mailbox-webhook';
    const startHistoryId = world.sandbox.createMailbox({ emailAddress }).historyId;
    const config = loadConfig({
      GMAIL_SYNC_TASK_QUEUE: taskQueue,
      GMAIL_SYNC_LOG_LEVEL: 'warn',
      GMAIL_SYNC_PAYLOAD_ENCRYPTION: 'off',
      GMAIL_SYNC_DELIVERY_TIMEOUT_MS: '5000',
      GMAIL_SYNC_WEBHOOK_SECRET_BILLING: SIGNING_SECRET,
    });
    const worker = await createWorker({ connection: world.env.nativeConnection, config, gmail: createSandboxGmailProvider(world.sandbox.url) });
    receiver.reactions.push(503);

    await worker.runUntil(async () => {
      await startMailbox(world.env.client, taskQueue, {
        emailAddress,
        watch: { topicName: 'projects/gmail-sync-test/topics/webhook-worker' },
        credential: { provider: 'sandbox' },
        delivery: { target: 'webhook', webhookUrl: receiver.url, webhookSecretRef: 'billing' },
      });
      const handle = world.env.client.workflow.getHandle(mailboxWorkflowId(emailAddress));
      await waitForState(handle, (state) => state.historyId === startHistoryId);
      const messages = [world.sandbox.deliverMessage(emailAddress), world.sandbox.deliverMessage(emailAddress), world.sandbox.deliverMessage(emailAddress)];
      await handle.signal(notifySignal, { historyId: messages[2].historyId });

      const state = await waitForState(handle, (current) => current.counters.messagesDelivered === 3);

      expect(state.historyId).toBe(messages[2].historyId);
      expect(new Set(receiver.deliveryIds())).toEqual(new Set(messages.map((message) => `${emailAddress}/${message.id}`)));
      expect(receiver.received).toHaveLength(4);
      for (const request of receiver.received) {
        const timestamp = String(request.headers['gmail-sync-timestamp']);
        expect(verifyWebhookSignature(SIGNING_SECRET, timestamp, request.body, String(request.headers['gmail-sync-signature']))).toBe(true);
      }
      const history = await handle.fetchHistory();
      expect(JSON.stringify(history)).not.toContain(SIGNING_SECRET);
      await handle.executeUpdate(stopUpdate);
    });
  });
});
