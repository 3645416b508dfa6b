import type { FastifyInstance } from 'fastify';

import type { NextConsent, OAuthClientRegistration } from '../auth/consent';
import type { MailboxSettings, SandboxControls } from '../controls';
import type { GmailFaultInput } from '../faults';
import type { DeliverMessageInput, ModifyLabelsInput } from '../mailbox';
import type { CreateMailboxInput } from '../mailbox-registry';
import type { NotificationFaultInput } from '../push/notification-faults';
import type { PushConfig } from '../push/push-config';
import {
  AddressQuery,
  ClockBody,
  CreateMailboxBody,
  DeliverMessageBody,
  EmailParams,
  GmailFaultBody,
  MailboxSettingsBody,
  MessageParams,
  ModifyLabelsBody,
  NextConsentBody,
  NotificationFaultBody,
  OAuthClientBody,
  PushConfigBody,
  ServiceAccountBody,
  TopicBody,
} from './control-schemas';

interface Email {
  Params: { emailAddress: string };
}
interface Message {
  Params: { emailAddress: string; id: string };
}
interface Address {
  Querystring: { emailAddress?: string };
}

/** The /sandbox control routes; each one calls the SandboxControls method of the same name. */
export function registerControlRoutes(app: FastifyInstance, controls: SandboxControls): void {
  // Mailboxes and their messages.
  app.post<{ Body: CreateMailboxInput }>('/sandbox/mailboxes', { schema: { body: CreateMailboxBody } }, (request, reply) =>
    reply.status(201).send(controls.createMailbox(request.body)),
  );
  app.get<Email>('/sandbox/mailboxes/:emailAddress', { schema: { params: EmailParams } }, (request) =>
    controls.getMailbox(request.params.emailAddress),
  );
  app.patch<Email & { Body: MailboxSettings }>(
    '/sandbox/mailboxes/:emailAddress',
    { schema: { params: EmailParams, body: MailboxSettingsBody } },
    (request) => controls.updateMailbox(request.params.emailAddress, request.body),
  );
  app.post<Email & { Body: DeliverMessageInput }>(
    '/sandbox/mailboxes/:emailAddress/messages',
    {
      schema: { params: EmailParams, body: DeliverMessageBody },
      // Every field is optional, so a POST without a body delivers a default message.
      preValidation: (request, _reply, done) => {
        request.body ??= {};
        done();
      },
    },
    (request, reply) => reply.status(201).send(controls.deliverMessage(request.params.emailAddress, request.body)),
  );
  app.post<Message & { Body: ModifyLabelsInput }>(
    '/sandbox/mailboxes/:emailAddress/messages/:id/modify',
    { schema: { params: MessageParams, body: ModifyLabelsBody } },
    (request) => controls.modifyLabels(request.params.emailAddress, request.params.id, request.body),
  );
  app.delete<Message>('/sandbox/mailboxes/:emailAddress/messages/:id', { schema: { params: MessageParams } }, (request) =>
    controls.deleteMessage(request.params.emailAddress, request.params.id),
  );

  // OAuth clients, consent decisions, revocation and service accounts.
  app.post<{ Body: OAuthClientRegistration }>('/sandbox/oauth/clients', { schema: { body: OAuthClientBody } }, (request, reply) => {
    controls.registerOAuthClient(request.body);
    return reply.status(204).send();
  });
  app.post<{ Body: NextConsent }>('/sandbox/oauth/next-consent', { schema: { body: NextConsentBody } }, (request, reply) => {
    controls.setNextConsent(request.body);
    return reply.status(204).send();
  });
  app.post<Email>('/sandbox/mailboxes/:emailAddress/revoke-consents', { schema: { params: EmailParams } }, (request) =>
    controls.revokeConsents(request.params.emailAddress),
  );
  app.post<{ Body: { clientEmail?: string; scopes?: string[] } }>(
    '/sandbox/service-accounts',
    {
      schema: { body: ServiceAccountBody },
      preValidation: (request, _reply, done) => {
        request.body ??= {};
        done();
      },
    },
    (request, reply) => reply.status(201).send(controls.createServiceAccount(request.body, `${request.protocol}://${request.host}/token`)),
  );

  // Gmail method faults and notification faults.
  app.get('/sandbox/faults', () => ({ faults: controls.listFaults() }));
  app.post<{ Body: GmailFaultInput }>('/sandbox/faults', { schema: { body: GmailFaultBody } }, (request, reply) =>
    reply.status(201).send(controls.addFault(request.body)),
  );
  app.delete('/sandbox/faults', (_request, reply) => {
    controls.clearFaults();
    return reply.status(204).send();
  });
  app.post<{ Body: NotificationFaultInput }>('/sandbox/notification-faults', { schema: { body: NotificationFaultBody } }, (request, reply) => {
    controls.addNotificationFault(request.body);
    return reply.status(204).send();
  });
  app.delete('/sandbox/notification-faults', (_request, reply) => {
    controls.clearNotificationFaults();
    return reply.status(204).send();
  });

  // Topics, push settings, counters, clock and the notification log.
  app.put<{ Body: { topicName: string; publishAllowed: boolean } }>('/sandbox/topics', { schema: { body: TopicBody } }, (request, reply) => {
    controls.setTopicPublishRights(request.body.topicName, request.body.publishAllowed);
    return reply.status(204).send();
  });
  app.get('/sandbox/push', () => controls.getPushConfig());
  app.patch<{ Body: Partial<PushConfig> }>('/sandbox/push', { schema: { body: PushConfigBody } }, (request) =>
    controls.configurePush(request.body),
  );
  app.get<Address>('/sandbox/counters', { schema: { querystring: AddressQuery } }, (request) => controls.getCounters(request.query.emailAddress));
  app.delete('/sandbox/counters', (_request, reply) => {
    controls.resetCounters();
    return reply.status(204).send();
  });
  app.get('/sandbox/clock', () => controls.getClock());
  app.post<{ Body: { advanceMs?: number; frozen?: boolean } }>('/sandbox/clock', { schema: { body: ClockBody } }, (request) => {
    if (request.body.frozen !== undefined) {
      controls.freezeClock(request.body.frozen);
    }
    return controls.advanceClock(request.body.advanceMs ?? 0);
  });
  app.get<Address>('/sandbox/notifications', { schema: { querystring: AddressQuery } }, (request) => ({
    notifications: controls.notifications(request.query.emailAddress),
  }));
}
