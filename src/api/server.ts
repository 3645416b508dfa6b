/**
 * Builds the Fastify server of gmail-sync: the Pub/Sub push endpoint, the
 * management API, health, readiness and metrics, the OpenAPI document at
 * /openapi.json and its UI at /docs, all from the same TypeBox schemas.
 */
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { Client } from '@temporalio/client';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyReply } from 'fastify';

import { codecRoutes } from '../codec/codec-routes';
import { deriveCodecSessionKey } from '../codec/codec-session';
import { createPayloadCodec } from '../codec/data-converter';
import { ConfigError, type Config } from '../config';
import { EMAIL_ADDRESS_MAX_LENGTH } from '../ingest/email-address';
import type { IngestDeps } from '../ingest/ingest-notification';
import type { Logger } from '../logger';
import { createMetrics, type Metrics } from '../metrics/metrics';
import { hasApiToken, matchesApiToken } from './api-token';
import { createErrorHandler, translateRouterError } from './error-handler';
import { ApiError, errorBody } from './errors';
import { derivePageTokenKey } from './page-token';
import { PushTokenVerifier } from './push-auth';
import { healthRoutes } from './routes/health';
import { DEFAULT_TEMPORAL_DEADLINES, mailboxRoutes, type MailboxDefaults, type ResolveMailboxAddress, type TemporalDeadlines } from './routes/mailboxes';
import type { ConsentFlow } from './oauth/consent-flow';
import { oauthLinkRoutes, oauthRoutes } from './routes/oauth';
import { pushMethodNotAllowedRoutes, pushRoutes } from './routes/push';

export type ApiConfig = Pick<
  Config,
  | 'apiToken'
  | 'apiBodyLimitBytes'
  | 'pushAudience'
  | 'pushServiceAccount'
  | 'pushCertsUrl'
  | 'pushCertsCacheSeconds'
  | 'signalTimeoutMs'
  | 'temporalNamespace'
  | 'taskQueue'
  | 'payloadEncryption'
  | 'payloadKeys'
  | 'codecCorsOrigins'
>;

export interface ApiServerOptions {
  config: ApiConfig;
  client: Client;
  logger: Logger;
  mailboxDefaults: MailboxDefaults;
  resolveMailboxAddress: ResolveMailboxAddress;
  /** Accepted `iss` values of push tokens; Google's by default. */
  pushIssuers?: string[];
  /** The consent flow of /v1/oauth/links, /v1/oauth/start and /v1/oauth/callback; without it they return OAUTH_NOT_CONFIGURED. */
  consentFlow?: ConsentFlow;
  /** Called after the consent callback stored a refresh token, with the mailbox address. */
  onGrantStored?: (emailAddress: string) => void;
  /** Deadlines of the management routes' Temporal calls; the defaults suit production. */
  temporalDeadlines?: Partial<TemporalDeadlines>;
}

/**
 * Longest path parameter the router accepts, in characters: an address of
 * the maximum length with every character percent-encoded. Fastify's default
 * of 100 rejects valid addresses.
 */
const MAX_PARAM_LENGTH = EMAIL_ADDRESS_MAX_LENGTH * 3;

export interface ApiServer {
  app: FastifyInstance;
  metrics: Metrics;
  /** The signalling dependencies, shared with a pull subscriber in the same process. */
  ingest: IngestDeps;
  /** From now on pushes get 503 (Pub/Sub redelivers elsewhere) and /readyz reports not ready. */
  startDraining(): void;
}

/** Settings the API cannot run without; push authentication has no off switch. */
export function requireApiSettings(config: ApiConfig): { apiToken: string; pushAudience: string; pushServiceAccount: string } {
  const problems: string[] = [];
  if (config.pushAudience === undefined) {
    problems.push('GMAIL_SYNC_PUSH_AUDIENCE is missing: set it to the audience of the push subscription\'s OIDC token, usually the push endpoint URL.');
  }
  if (config.pushServiceAccount === undefined) {
    problems.push('GMAIL_SYNC_PUSH_SERVICE_ACCOUNT is missing: set it to the service account email that the push subscription authenticates as.');
  }
  if (config.apiToken === undefined) {
    problems.push('GMAIL_SYNC_API_TOKEN is missing: set it to a random string of at least 16 characters, for example the output of `openssl rand -hex 32`.');
  }
  try {
    createPayloadCodec(config);
  } catch (error) {
    if (!(error instanceof ConfigError)) {
      throw error;
    }
    problems.push(...error.problems);
  }
  if (problems.length > 0) {
    throw new ConfigError(problems);
  }
  return { apiToken: config.apiToken!, pushAudience: config.pushAudience!, pushServiceAccount: config.pushServiceAccount! };
}

export async function buildApiServer(options: ApiServerOptions): Promise<ApiServer> {
  const { config, client } = options;
  const required = requireApiSettings(config);
  const metrics = createMetrics();
  const ingest: IngestDeps = { client, metrics, signalTimeoutMs: config.signalTimeoutMs };
  let draining = false;
  const isDraining = (): boolean => draining;

  // 1. Fastify with pino, one child logger per request, and the body limit.
  const app: FastifyInstance = Fastify({
    loggerInstance: options.logger as FastifyBaseLogger,
    // The onResponse hook below logs each request once, at a level that follows its status.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: config.apiBodyLimitBytes,
    return503OnClosing: true,
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    // Query strings keep Fastify's type coercion, because pageSize=5 arrives as a string.
    // An unknown parameter such as a misspelt filter is a 400 instead of being dropped.
    ajv: { customOptions: { removeAdditional: false } },
    // The router rejects bad percent-encoding and overlong parameters before any route or hook runs.
    // This sends those through the error catalogue and logs and counts them here, because the onResponse hook below does not run for them.
    frameworkErrors: (error, request, reply) => {
      const translated = translateRouterError(error, request.url.split('?')[0], MAX_PARAM_LENGTH);
      metrics.apiRequests.inc({ method: request.method, route: 'unmatched', status: String(translated.statusCode) });
      const line = { method: request.method, route: 'unmatched', statusCode: translated.statusCode, code: translated.code };
      if (translated.statusCode >= 500) {
        request.log.error({ ...line, err: error }, translated.message);
      } else {
        request.log.info({ ...line, reason: translated.message }, 'request rejected');
      }
      void (reply as FastifyReply).header('x-request-id', request.id).status(translated.statusCode).send(errorBody(translated));
    },
  });
  const deadlines: TemporalDeadlines = { ...DEFAULT_TEMPORAL_DEADLINES, ...options.temporalDeadlines };
  app.setErrorHandler(createErrorHandler(client, config.apiBodyLimitBytes, deadlines.readMs));
  app.setNotFoundHandler((request, reply) => {
    const error = ApiError.of('ROUTE_NOT_FOUND', { method: request.method, url: request.url.split('?')[0] });
    request.log.info({ code: error.code }, 'request rejected');
    return reply.status(404).send(errorBody(error));
  });

  // 2. The request id goes back in a header, so a caller can find the log lines of its request.
  app.addHook('onRequest', async (request, reply) => {
    void reply.header('x-request-id', request.id);
  });

  // 3. One log line and one counter per request: 5xx at error, 4xx at info.
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    metrics.apiRequests.inc({ method: request.method, route, status: String(reply.statusCode) });
    const emailAddress = (request.params as { emailAddress?: unknown } | undefined)?.emailAddress;
    const line = {
      method: request.method,
      route,
      statusCode: reply.statusCode,
      ms: Math.round(reply.elapsedTime),
      ...(typeof emailAddress === 'string' ? { emailAddress: emailAddress.toLowerCase() } : {}),
    };
    if (reply.statusCode >= 500) {
      request.log.error(line, 'request failed');
    } else if (reply.statusCode >= 400) {
      request.log.info(line, 'request rejected');
    } else if (route === '/pubsub/push' || route === '/metrics' || route === '/healthz' || route === '/readyz') {
      request.log.debug(line, 'request completed');
    } else {
      request.log.info(line, 'request completed');
    }
  });

  // 4. OpenAPI from the route schemas, and its UI.
  await app.register(swagger, {
    openapi: {
      info: { title: 'gmail-sync', version: '0.1.0', description: 'Keeps Gmail mailboxes in sync through Gmail push notifications.' },
      components: {
        securitySchemes: {
          apiToken: { type: 'http', scheme: 'bearer', description: 'The value of GMAIL_SYNC_API_TOKEN.' },
          pushOidcToken: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'OIDC token that Pub/Sub push sends.' },
        },
      },
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  app.get('/openapi.json', { schema: { hide: true } }, (_request, reply) => reply.send(app.swagger()));

  // 5. Routes, each group in its own encapsulated context.
  const verifier = new PushTokenVerifier({
    audience: required.pushAudience,
    serviceAccountEmail: required.pushServiceAccount,
    certsUrl: config.pushCertsUrl,
    certsCacheSeconds: config.pushCertsCacheSeconds,
    issuers: options.pushIssuers,
  });
  await app.register((scope, _options, done) => {
    pushRoutes(scope, { verifier, ingest, certsUrl: config.pushCertsUrl, isDraining });
    done();
  });
  await app.register((scope, _options, done) => {
    pushMethodNotAllowedRoutes(scope);
    done();
  });
  await app.register((scope, _options, done) => {
    mailboxRoutes(scope, {
      client,
      namespace: config.temporalNamespace,
      taskQueue: config.taskQueue,
      apiToken: required.apiToken,
      pageTokenKey: derivePageTokenKey(required.apiToken),
      defaults: options.mailboxDefaults,
      resolveMailboxAddress: options.resolveMailboxAddress,
      deadlines,
    });
    done();
  });
  await app.register((scope, _options, done) => {
    oauthRoutes(scope, {
      flow: options.consentFlow,
      client,
      taskQueue: config.taskQueue,
      defaults: options.mailboxDefaults,
      readMs: deadlines.readMs,
      onGrantStored: options.onGrantStored,
    });
    done();
  });
  await app.register((scope, _options, done) => {
    oauthLinkRoutes(scope, { flow: options.consentFlow, apiToken: required.apiToken, topicName: options.mailboxDefaults.topicName });
    done();
  });
  await app.register((scope, _options, done) => {
    healthRoutes(scope, { client, metrics, isDraining });
    done();
  });

  // 6. The codec server that the Temporal UI and CLI decrypt payloads through, for API token holders only.
  const codec = createPayloadCodec(config);
  if (codec !== undefined) {
    await app.register(codecRoutes, {
      prefix: '/codec',
      codec,
      authorize: hasApiToken(required.apiToken),
      allowedOrigins: config.codecCorsOrigins,
      login: { checkToken: matchesApiToken(required.apiToken), sessionKey: deriveCodecSessionKey(required.apiToken) },
    });
  }

  return {
    app,
    metrics,
    ingest,
    startDraining: () => {
      draining = true;
    },
  };
}
