/**
 * The consent flow's routes. An operator creates a consent link with
 * POST /v1/oauth/links, which takes the API bearer token. The mailbox owner's
 * browser opens the link, so /v1/oauth/start and /v1/oauth/callback take no
 * bearer token. /v1/oauth/start redirects to Google only with a valid link
 * for the address. /v1/oauth/callback acts only on a state that this server
 * sealed, on a code that Google accepts, and on a token whose mailbox is the
 * invited one. The browser routes respond with small HTML pages, or
 * JSON for clients that request it with `Accept: application/json`.
 */
import type { Client } from '@temporalio/client';
import { TypeBoxValidatorCompiler, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';

import { mailboxWorkflowId } from '../../../workflows/mailbox/types';
import { isTemporalUnavailable } from '../../ingest/temporal-failure';
import { getMailboxState, reauthorizeMailbox, startMailbox } from '../../temporal/mailbox-client';
import { requireApiToken } from '../api-token';
import { ApiError, errorBody } from '../errors';
import type { CallbackQuery, ConsentFlow } from '../oauth/consent-flow';
import { EmailAddress, ErrorResponse } from '../schemas';
import { translateValidation } from '../validation-errors';
import { buildWorkflowInput, type MailboxDefaults } from './mailboxes';

export interface OAuthRouteOptions {
  /** The consent flow; undefined when the OAuth client is not configured, and both routes return OAUTH_NOT_CONFIGURED. */
  flow: ConsentFlow | undefined;
  client: Client;
  taskQueue: string;
  /** Defaults of started mailboxes; their credential is always `oauth`. */
  defaults: MailboxDefaults;
  /** Deadline of each Temporal call, in milliseconds. */
  readMs: number;
  /** Called after a refresh token was stored, so a provider in the same process drops its cached client. */
  onGrantStored?: (emailAddress: string) => void;
}

export interface OAuthLinkRouteOptions {
  /** The consent flow; undefined when the OAuth client is not configured, and the route returns OAUTH_NOT_CONFIGURED. */
  flow: ConsentFlow | undefined;
  apiToken: string;
  /** Pub/Sub topic of mailboxes started by consent; without it no link is created. */
  topicName: string | undefined;
}

/** Lifetime of a consent link when the request names none, in seconds: 7 days. */
export const DEFAULT_LINK_SECONDS = 7 * 24 * 3600;
/** Maximum lifetime of a consent link, in seconds: 30 days. A leaked link lets only its own mailbox consent, but it should not stay valid for ever. */
export const MAX_LINK_SECONDS = 30 * 24 * 3600;

const CreateLinkBody = Type.Object(
  {
    emailAddress: EmailAddress,
    expiresInSeconds: Type.Optional(
      Type.Integer({
        minimum: 60,
        maximum: MAX_LINK_SECONDS,
        description: `Seconds until the link expires; ${DEFAULT_LINK_SECONDS} (7 days) when omitted, at most ${MAX_LINK_SECONDS} (30 days).`,
      }),
    ),
  },
  { additionalProperties: false },
);

const CreateLinkResponse = Type.Object({
  url: Type.String({ description: 'The /v1/oauth/start URL to send to the mailbox owner, who opens it in a browser.' }),
  emailAddress: Type.String({ description: 'The invited address, lower-cased; only this mailbox can consent through the link.' }),
  expiresAt: Type.String({ format: 'date-time', description: 'When the link stops working; it may be opened any number of times before.' }),
});

/**
 * Registers POST /v1/oauth/links, which needs the API bearer token. Its errors
 * are JSON, rendered by the server's error handler like the mailbox routes'.
 */
export function oauthLinkRoutes(parent: FastifyInstance, options: OAuthLinkRouteOptions): void {
  const app = parent.withTypeProvider<TypeBoxTypeProvider>();
  app.addHook('onRequest', requireApiToken(options.apiToken));
  // Bodies must be JSON: Fastify's default text/plain parser would turn other content types into a 400 instead of a 415.
  app.removeContentTypeParser('text/plain');

  app.post(
    '/v1/oauth/links',
    {
      schema: {
        summary: "Create a consent link: the URL that a mailbox owner opens to grant gmail-sync access to that one mailbox",
        tags: ['oauth'],
        security: [{ apiToken: [] }],
        body: CreateLinkBody,
        response: { 201: CreateLinkResponse, 400: ErrorResponse, 401: ErrorResponse, 404: ErrorResponse, 415: ErrorResponse, 503: ErrorResponse },
      },
      // TypeBox neither coerces types nor drops unknown fields, so "60" or a misspelt field is a 400.
      validatorCompiler: TypeBoxValidatorCompiler,
    },
    async (request, reply) => {
      const flow = requireFlow(options.flow);
      requireTopic(options.topicName);
      const link = flow.createLink(request.body.emailAddress, request.body.expiresInSeconds ?? DEFAULT_LINK_SECONDS);
      const expiresAt = new Date(link.expiresAt).toISOString();
      request.log.info({ emailAddress: link.emailAddress, expiresAt }, 'consent link created');
      return reply.status(201).send({ url: link.url, emailAddress: link.emailAddress, expiresAt });
    },
  );
}

/** Result of the callback for the mailbox. */
export type ConsentOutcome = 'started' | 'resumed' | 'already-running';

const CallbackResponse = Type.Object({
  emailAddress: Type.String({ description: 'The address Gmail confirmed for the new token; the token is stored under it.' }),
  requestedEmailAddress: Type.String({ description: 'The address of the consent link; equal to emailAddress, because another account is rejected.' }),
  outcome: Type.Union([Type.Literal('started'), Type.Literal('resumed'), Type.Literal('already-running')]),
  workflowId: Type.String(),
  message: Type.String(),
});

const errors = { 400: ErrorResponse, 403: ErrorResponse, 404: ErrorResponse, 502: ErrorResponse, 503: ErrorResponse };
export function oauthRoutes(app: FastifyInstance, options: OAuthRouteOptions): void {
  app.setErrorHandler((error: FastifyError, request, reply) => sendError(translate(error, request), request, reply));

  app.get<{ Querystring: { emailAddress: string; link?: string } }>(
    '/v1/oauth/start',
    {
      schema: {
        summary: "Start Google's consent for a mailbox with a consent link: redirects the browser to Google's authorization endpoint",
        tags: ['oauth'],
        querystring: Type.Object({
          emailAddress: EmailAddress,
          link: Type.Optional(Type.String({ description: 'The signed token of a consent link from POST /v1/oauth/links for this address.' })),
        }),
        response: { 302: Type.Null({ description: "Redirect to Google's consent screen." }), ...errors },
      },
      attachValidation: true,
    },
    async (request, reply) => {
      if (request.validationError) {
        // A missing or repeated parameter is named by translate(); a single bad value is named here.
        const value = (request.query as { emailAddress?: unknown }).emailAddress;
        throw typeof value === 'string' ? ApiError.of('INVALID_EMAIL_ADDRESS', { value }) : request.validationError;
      }
      const flow = requireFlow(options.flow);
      // Checked before Google's consent, so that the owner's consent is not wasted on a mailbox that cannot start.
      requireTopic(options.defaults.topicName);
      const location = await flow.begin(request.query.emailAddress, request.query.link);
      request.log.info({ emailAddress: request.query.emailAddress.toLowerCase() }, 'consent started');
      return reply.redirect(location, 302);
    },
  );

  app.get<{ Querystring: CallbackQuery }>(
    '/v1/oauth/callback',
    {
      schema: {
        summary: "Google's redirect after consent: stores the refresh token and starts or resumes the mailbox",
        tags: ['oauth'],
        querystring: Type.Object(
          {
            state: Type.Optional(Type.String()),
            code: Type.Optional(Type.String()),
            error: Type.Optional(Type.String()),
            error_description: Type.Optional(Type.String()),
          },
          { additionalProperties: true },
        ),
        response: { 200: CallbackResponse, ...errors },
      },
    },
    async (request, reply) => {
      // 1. State, code exchange, getProfile, the invited address, stored token.
      const flow = requireFlow(options.flow);
      requireTopic(options.defaults.topicName);
      const consent = await flow.complete(request.query);
      options.onGrantStored?.(consent.emailAddress);

      // 2. Start the mailbox, resume it from needs-reauth, or leave it running.
      const outcome = await applyConsent(options, consent.emailAddress);
      request.log.info({ emailAddress: consent.emailAddress, outcome }, 'consent completed');

      const body = {
        ...consent,
        outcome,
        workflowId: mailboxWorkflowId(consent.emailAddress),
        message: `Access to ${consent.emailAddress} was stored. ${OUTCOME_TEXT[outcome](consent.emailAddress)}`,
      };
      return wantsJson(request) ? body : reply.type('text/html; charset=utf-8').send(page('gmail-sync: access granted', body.message));
    },
  );
}

const OUTCOME_TEXT: Record<ConsentOutcome, (emailAddress: string) => string> = {
  started: (emailAddress) => `The mailbox ${emailAddress} was started.`,
  resumed: (emailAddress) => `The mailbox ${emailAddress} was waiting for new credentials and resumes from its cursor.`,
  'already-running': (emailAddress) => `The mailbox ${emailAddress} was already running; it uses the new token from its next token refresh.`,
};

/**
 * Starts the mailbox with `oauth` credentials when no workflow runs for it
 * (or it was stopped), sends `reauthorized` when it waits in needs-reauth,
 * and otherwise leaves it running.
 */
async function applyConsent(options: OAuthRouteOptions, emailAddress: string): Promise<ConsentOutcome> {
  const { client, readMs } = options;
  const within = <T>(call: () => Promise<T>): Promise<T> => client.withDeadline(Date.now() + readMs, call);
  const state = await within(() => getMailboxState(client, emailAddress));
  if (state !== undefined && state.status !== 'stopped') {
    if (state.status !== 'needs-reauth') {
      return 'already-running';
    }
    await within(() => reauthorizeMailbox(client, emailAddress));
    return 'resumed';
  }
  const defaults: MailboxDefaults = { ...options.defaults, credential: { provider: 'oauth' } };
  const input = buildWorkflowInput({ emailAddress }, emailAddress, defaults);
  const started = await within(() => startMailbox(client, options.taskQueue, input));
  return started.started ? 'started' : 'already-running';
}

function requireFlow(flow: ConsentFlow | undefined): ConsentFlow {
  if (flow === undefined) {
    throw ApiError.of('OAUTH_NOT_CONFIGURED');
  }
  return flow;
}

function requireTopic(topicName: string | undefined): void {
  if (topicName === undefined) {
    throw ApiError.of('WATCH_TOPIC_NOT_CONFIGURED');
  }
}

function translate(error: FastifyError | ApiError, request: FastifyRequest): ApiError {
  if (error instanceof ApiError) {
    return error;
  }
  // A repeated query parameter arrives as an array and fails the schema: the browser's request is wrong, not the server.
  if (error.validation) {
    return translateValidation(error, request);
  }
  if (isTemporalUnavailable(error)) {
    return ApiError.of('TEMPORAL_UNAVAILABLE', { reason: error.message });
  }
  request.log.error({ err: error }, 'consent route failed');
  return ApiError.of('INTERNAL');
}

function sendError(error: ApiError, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  if (error.statusCode >= 500) {
    request.log.error({ code: error.code }, error.message);
  } else {
    request.log.info({ code: error.code, reason: error.message }, 'request rejected');
  }
  void reply.status(error.statusCode);
  if (wantsJson(request)) {
    return reply.send(errorBody(error));
  }
  return reply.type('text/html; charset=utf-8').send(page(`gmail-sync: ${error.code}`, error.message));
}

/** JSON for clients that ask for it and do not prefer HTML; browsers send text/html first. */
function wantsJson(request: FastifyRequest): boolean {
  const accept = request.headers.accept ?? '';
  return accept.includes('application/json') && !accept.includes('text/html');
}

function page(title: string, message: string): string {
  return `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head>\n<body><h1>${escapeHtml(title)}</h1><p>${escapeHtml(message)}</p></body></html>\n`;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`);
}
