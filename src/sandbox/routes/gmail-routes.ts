import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

import { getMessage } from '../gmail/message-format';
import { listHistory } from '../gmail/history-list';
import { listLabels } from '../gmail/labels-list';
import { listMessages } from '../gmail/messages-list';
import type { Query } from '../gmail/query-params';
import { stopWatch, watchMailbox } from '../gmail/watch';
import type { Mailbox } from '../mailbox';
import type { GmailMethod } from '../quota';
import type { SandboxCore } from '../sandbox-core';

type GmailRequest = FastifyRequest<{ Params: { userId: string; id?: string }; Querystring: Query }>;

/**
 * Registers the Gmail REST subset under /gmail/v1/users/{userId}, at the paths
 * that the googleapis client builds from `rootUrl`. Each call is authorized first
 * (so a 401 costs no quota), then counted, then put through injected faults.
 */
export function registerGmailRoutes(app: FastifyInstance, core: SandboxCore): void {
  const base = '/gmail/v1/users/:userId';

  const route = (method: GmailMethod, handler: (mailbox: Mailbox, request: GmailRequest, reply: FastifyReply) => unknown) => {
    return async (request: GmailRequest, reply: FastifyReply) => {
      const mailbox = core.tokens.authorize(request.headers.authorization, request.params.userId);
      core.counters.countCall(mailbox.emailAddress, method);
      await core.faults.apply(method, mailbox.emailAddress);
      return handler(mailbox, request, reply);
    };
  };

  app.get(
    `${base}/profile`,
    route('getProfile', (mailbox) => ({
      emailAddress: mailbox.emailAddress,
      messagesTotal: mailbox.data.messages.length,
      threadsTotal: new Set(mailbox.data.messages.map((message) => message.threadId)).size,
      historyId: mailbox.data.historyId,
    })),
  );
  app.post(
    `${base}/watch`,
    route('watch', (mailbox, request) => watchMailbox(mailbox, request.body, core.clock, (topic) => core.canPublish(topic))),
  );
  app.post(
    `${base}/stop`,
    route('stop', (mailbox, _request, reply) => {
      stopWatch(mailbox);
      return reply.status(204).send();
    }),
  );
  app.get(`${base}/history`, route('history.list', (mailbox, request) => listHistory(mailbox, request.query)));
  app.get(`${base}/messages`, route('messages.list', (mailbox, request) => listMessages(mailbox, request.query)));
  app.get(`${base}/messages/:id`, route('messages.get', (mailbox, request) => getMessage(mailbox, request.params.id!, request.query)));
  app.get(`${base}/labels`, route('labels.list', (mailbox) => listLabels(mailbox)));
}
