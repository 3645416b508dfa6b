import { WorkflowFailedError } from '@temporalio/client';
import { Worker } from '@temporalio/worker';

import { createActivities } from '../../activities';
import { DeliveryHandOff } from '../../activities/hand-off';
import { DEFAULT_DELIVERY_CONFIG, DEFAULT_DELIVERY_RETRY } from '../../src/delivery/targets';
import { createSandboxGmailProvider } from '../../src/gmail';
import { deliveryWorkflowId } from '../../workflows/delivery/types';
import { WebhookReceiver } from '../helpers/webhook-receiver';
import { createMailboxWorld, destroyMailboxWorld, type MailboxWorld } from './mailbox-harness';

const SIGNING_SECRET = 'delivery-retry-signing-secret';

describe('deliveryWorkflow retry schedule', () => {
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

  it('default schedule ends at 24 hours', async () => {
    const emailAddress = 'delivery-retry@example.com';
    const taskQueue = 'delivery-retry';
    world.sandbox.createMailbox({ emailAddress });
    const message = world.sandbox.deliverMessage(emailAddress);
    receiver.reactions.push(...Array.from({ length: 1000 }, () => 503));
    const deliveryConfig = { ...DEFAULT_DELIVERY_CONFIG, timeoutMs: 200, resolveSecret: () => SIGNING_SECRET };
    const worker = await Worker.create({
      connection: world.env.nativeConnection,
      taskQueue,
      workflowBundle: world.bundle,
      activities: createActivities({ gmail: createSandboxGmailProvider(world.sandbox.url), deliveryConfig }),
    });
    const handOff = new DeliveryHandOff(world.env.client, taskQueue, DEFAULT_DELIVERY_RETRY);
    const mailbox = {
      emailAddress,
      credential: { provider: 'sandbox' as const },
      delivery: { target: 'webhook', webhookUrl: receiver.url, webhookSecretRef: 'billing' },
    };
    const change = { kind: 'messageAdded' as const, messageId: message.id, deliveryId: `${emailAddress}/${message.id}` };

    await worker.runUntil(async () => {
      expect(await handOff.start(mailbox, change)).toBe('handedOff');
      expect(await handOff.start(mailbox, change)).toBe('alreadyHandedOff');
      const handle = world.env.client.workflow.getHandle(deliveryWorkflowId(emailAddress, message.id));

      await expect(handle.result()).rejects.toBeInstanceOf(WorkflowFailedError);

      const history = await handle.fetchHistory();
      const attempts = history.events?.filter((event) => event.activityTaskStartedEventAttributes).map((event) => event.activityTaskStartedEventAttributes?.attempt);
      const description = await handle.describe();
      const elapsedMs = (description.closeTime?.getTime() ?? 0) - description.startTime.getTime();
      expect(attempts).toEqual([29]);
      expect(elapsedMs).toBeGreaterThan(23 * 3_600_000);
      expect(elapsedMs).toBeLessThanOrEqual(DEFAULT_DELIVERY_RETRY.scheduleToCloseMs + 60_000);
      expect(await handOff.start(mailbox, change)).toBe('alreadyHandedOff');
    });
  }, 120_000);
});
