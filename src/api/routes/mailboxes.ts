/**
 * Management routes under /v1/mailboxes: start, list, read state, stop, sync,
 * resync, reauthorize, and list and replay failed deliveries. Every route needs the API bearer token. Temporal
 * client errors propagate to the error handler, which translates them.
 */
import type { Client } from '@temporalio/client';
import type { FastifyInstance, FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import { TypeBoxValidatorCompiler, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';

import {
  getMailboxState,
  reauthorizeMailbox,
  resyncMailbox,
  startMailbox,
  stopMailbox,
  syncMailbox,
} from '../../temporal/mailbox-client';
import { mailboxWorkflowId, type CredentialRef, type DeliveryOptions, type MailboxWorkflowInput } from '../../../workflows/mailbox/types';
import { deliveryOptionsProblem } from '../../delivery/delivery-options';
import { checkHistoryId } from '../../ingest/history-id';
import { requireApiToken } from '../api-token';
import { ApiError } from '../errors';
import { listFailures, replayFailures } from '../delivery-failures';
import { listMailboxes } from '../mailbox-list';
import {
  ErrorResponse,
  ListFailuresQuery,
  ListFailuresResponse,
  ListMailboxesQuery,
  ListMailboxesResponse,
  MailboxParams,
  MailboxState,
  ReplayFailuresBody,
  ReplayFailuresResponse,
  ResyncBody,
  StartMailboxBody,
  StartMailboxResponse,
  SyncSummary,
} from '../schemas';

/** Options that a start request may omit. */
export interface MailboxDefaults {
  /** Pub/Sub topic for users.watch; without it, start requests must name one. */
  topicName?: string;
  credential: CredentialRef;
  delivery?: DeliveryOptions;
}

/**
 * Returns the address Gmail's getProfile reports for the given one,
 * lower-cased, so that aliases and dotted variants reach the same workflow.
 */
export type ResolveMailboxAddress = (emailAddress: string, credential: CredentialRef) => Promise<string>;

export interface MailboxRouteOptions {
  client: Client;
  namespace: string;
  taskQueue: string;
  apiToken: string;
  /** HMAC key of the list route's page tokens. */
  pageTokenKey: Buffer;
  defaults: MailboxDefaults;
  resolveMailboxAddress: ResolveMailboxAddress;
  deadlines: TemporalDeadlines;
}

/**
 * Deadlines of Temporal calls, in milliseconds, so that an unreachable
 * Temporal gets 503 instead of a hanging request. Every Temporal call of these
 * routes, and the state read of the error handler, runs within one of them.
 */
export interface TemporalDeadlines {
  /** Starts, signals, queries, describes and visibility lists. */
  readMs: number;
  /** Updates, which wait for the workflow to run them (a sync pages history.list), so they get longer. */
  updateMs: number;
}

export const DEFAULT_TEMPORAL_DEADLINES: TemporalDeadlines = { readMs: 10_000, updateMs: 60_000 };

/**
 * Validates JSON bodies with TypeBox, which neither coerces types nor drops
 * unknown fields, unlike Fastify's default Ajv settings (coerceTypes, removeAdditional).
 * So `"5"` for an integer or an unknown field is a 400, and a historyId sent as
 * a JSON number is rejected instead of being rounded to a string. Path
 * parameters of these routes are strings and need no coercion.
 */
const strictBodyValidator = TypeBoxValidatorCompiler;

const errors = { 400: ErrorResponse, 401: ErrorResponse, 404: ErrorResponse, 409: ErrorResponse, 503: ErrorResponse };
const security = [{ apiToken: [] }];

/** Replaces a missing body with `{}`, for routes whose body and every field of it are optional. */
function emptyBodyAsObject(request: FastifyRequest, _reply: FastifyReply, done: HookHandlerDoneFunction): void {
  request.body ??= {};
  done();
}

function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, entry]) => entry !== undefined)) as T;
}

export function buildWorkflowInput(body: StartMailboxBody, emailAddress: string, defaults: MailboxDefaults): MailboxWorkflowInput {
  const topicName = body.topicName ?? defaults.topicName;
  if (topicName === undefined) {
    throw ApiError.of('WATCH_TOPIC_MISSING');
  }
  const delivery = withoutUndefined({ ...defaults.delivery, ...body.delivery, includeLabelEvents: body.includeLabelEvents });
  const deliveryProblem = deliveryOptionsProblem(delivery);
  if (deliveryProblem !== undefined) {
    throw ApiError.of('INVALID_DELIVERY_OPTIONS', { problem: deliveryProblem });
  }
  return withoutUndefined({
    emailAddress,
    watch: withoutUndefined({ topicName, labelIds: body.labelIds, labelFilterBehavior: body.labelFilterBehavior }),
    credential: body.credential ?? defaults.credential,
    delivery: Object.keys(delivery).length > 0 ? delivery : undefined,
    backfillDays: body.backfillDays,
  });
}

export function mailboxRoutes(parent: FastifyInstance, options: MailboxRouteOptions): void {
  const app = parent.withTypeProvider<TypeBoxTypeProvider>();
  const { client } = options;
  const { readMs, updateMs } = options.deadlines;
  const within = <T>(ms: number, call: () => Promise<T>): Promise<T> => client.withDeadline(Date.now() + ms, call);
  app.addHook('onRequest', requireApiToken(options.apiToken));

  // Bodies must be JSON: Fastify's default text/plain parser would turn other content types into a 400 instead of a 415.
  app.removeContentTypeParser('text/plain');

  app.post(
    '/v1/mailboxes',
    {
      schema: {
        summary: 'Start a mailbox: 201 when started, 200 when it already runs',
        tags: ['mailboxes'],
        security,
        body: StartMailboxBody,
        response: { 200: StartMailboxResponse, 201: StartMailboxResponse, 415: ErrorResponse, 502: ErrorResponse, ...errors },
      },
      validatorCompiler: strictBodyValidator,
    },
    async (request, reply) => {
      // 1. Key the mailbox by the address Gmail reports, so aliases share one workflow.
      const credential = request.body.credential ?? options.defaults.credential;
      let emailAddress: string;
      try {
        emailAddress = (await options.resolveMailboxAddress(request.body.emailAddress, credential)).toLowerCase();
      } catch (error) {
        request.log.warn({ err: error, emailAddress: request.body.emailAddress }, 'getProfile failed while starting a mailbox');
        throw ApiError.of('MAILBOX_ADDRESS_UNRESOLVED', {
          emailAddress: request.body.emailAddress,
          reason: error instanceof Error ? error.message : String(error),
        });
      }

      // 2. Start the workflow, or find the running one.
      const input = buildWorkflowInput(request.body, emailAddress, options.defaults);
      const result = await within(readMs, () => startMailbox(client, options.taskQueue, input));
      request.log.info({ emailAddress, workflowId: result.workflowId, runId: result.runId, started: result.started }, 'mailbox start requested');
      return reply
        .status(result.started ? 201 : 200)
        .send({ emailAddress: result.emailAddress, workflowId: result.workflowId, runId: result.runId });
    },
  );

  app.get(
    '/v1/mailboxes',
    {
      schema: {
        summary: 'List mailboxes from Temporal visibility, filtered and paged',
        tags: ['mailboxes'],
        security,
        querystring: ListMailboxesQuery,
        response: { 200: ListMailboxesResponse, ...errors },
      },
    },
    async (request) => within(readMs, () => listMailboxes(client, options.namespace, request.query, options.pageTokenKey)),
  );

  app.get(
    '/v1/mailboxes/:emailAddress',
    {
      schema: {
        summary: "Read a mailbox's state; a stopped mailbox shows its final state",
        tags: ['mailboxes'],
        security,
        params: MailboxParams,
        response: { 200: MailboxState, ...errors },
      },
    },
    async (request) => {
      const emailAddress = request.params.emailAddress.toLowerCase();
      const state = await within(readMs, () => getMailboxState(client, emailAddress));
      if (state === undefined) {
        throw ApiError.of('MAILBOX_NOT_FOUND', { emailAddress });
      }
      return state;
    },
  );

  app.delete(
    '/v1/mailboxes/:emailAddress',
    {
      schema: {
        summary: 'Stop a mailbox (users.stop, then the workflow completes) and return its final state',
        tags: ['mailboxes'],
        security,
        params: MailboxParams,
        response: { 200: MailboxState, ...errors },
      },
    },
    async (request) => {
      const emailAddress = request.params.emailAddress.toLowerCase();
      try {
        return await within(updateMs, () => stopMailbox(client, emailAddress));
      } catch (error) {
        // Stopping twice returns the final state again.
        const state = await within(readMs, () => getMailboxState(client, emailAddress)).catch(() => undefined);
        if (state?.status === 'stopped') {
          return state;
        }
        throw error;
      }
    },
  );

  app.post(
    '/v1/mailboxes/:emailAddress/sync',
    {
      schema: {
        summary: "Sync a mailbox from its cursor now",
        tags: ['mailboxes'],
        security,
        params: MailboxParams,
        response: { 200: SyncSummary, ...errors },
      },
    },
    async (request) => within(updateMs, () => syncMailbox(client, request.params.emailAddress.toLowerCase())),
  );

  app.post(
    '/v1/mailboxes/:emailAddress/resync',
    {
      schema: {
        summary: 'Re-read history from startHistoryId, or run a full resync without it, and deliver again',
        tags: ['mailboxes'],
        security,
        params: MailboxParams,
        body: ResyncBody,
        response: { 200: SyncSummary, 415: ErrorResponse, ...errors },
      },
      validatorCompiler: strictBodyValidator,
      // A request without a body requests a full resync.
      preValidation: emptyBodyAsObject,
    },
    async (request) => {
      // The schema's pattern fixes the form; the range up to 2^64-1 needs a BigInt comparison.
      const { startHistoryId } = request.body;
      const checked = startHistoryId === undefined ? undefined : checkHistoryId(startHistoryId);
      if (checked !== undefined && !checked.ok) {
        throw ApiError.of('INVALID_REQUEST', { problem: `body.startHistoryId ${checked.problem}` });
      }
      return within(updateMs, () => resyncMailbox(client, request.params.emailAddress.toLowerCase(), withoutUndefined({ ...request.body })));
    },
  );

  app.post(
    '/v1/mailboxes/:emailAddress/reauthorize',
    {
      schema: {
        summary: 'Tell a mailbox in needs-reauth that its credentials work again',
        tags: ['mailboxes'],
        security,
        params: MailboxParams,
        response: { 202: Type.Object({ emailAddress: Type.String(), workflowId: Type.String() }), ...errors },
      },
    },
    async (request, reply) => {
      const emailAddress = request.params.emailAddress.toLowerCase();
      await within(readMs, () => reauthorizeMailbox(client, emailAddress));
      return reply.status(202).send({ emailAddress, workflowId: mailboxWorkflowId(emailAddress) });
    },
  );

  app.get(
    '/v1/mailboxes/:emailAddress/failures',
    {
      schema: {
        summary: "List the mailbox's failed deliveryWorkflows from Temporal visibility, paged",
        tags: ['mailboxes'],
        security,
        params: MailboxParams,
        querystring: ListFailuresQuery,
        response: { 200: ListFailuresResponse, ...errors },
      },
    },
    async (request) =>
      within(readMs, () => listFailures(client, options.namespace, request.params.emailAddress.toLowerCase(), request.query, options.pageTokenKey)),
  );

  app.post(
    '/v1/mailboxes/:emailAddress/replay-failures',
    {
      schema: {
        summary: 'Rerun failed deliveryWorkflows (all, or the given messages) under their workflow ids',
        tags: ['mailboxes'],
        security,
        params: MailboxParams,
        body: ReplayFailuresBody,
        response: { 200: ReplayFailuresResponse, 415: ErrorResponse, ...errors },
      },
      validatorCompiler: strictBodyValidator,
      // A request without a body reruns every failed delivery.
      preValidation: emptyBodyAsObject,
    },
    async (request) => {
      const emailAddress = request.params.emailAddress.toLowerCase();
      // Each rerun describes, reads the history of and starts one workflow, so the whole request gets the update deadline.
      const result = await within(updateMs, () => replayFailures(client, options.namespace, emailAddress, request.body.messageIds));
      request.log.info({ emailAddress, restarted: result.restarted.length, skipped: result.skipped.length }, 'failed deliveries replayed');
      return result;
    },
  );
}
