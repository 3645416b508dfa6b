import type { FastifyInstance } from 'fastify';

import { AuthorizationPageError } from '../auth/consent';
import type { SandboxCore } from '../sandbox-core';

/**
 * Google's OAuth endpoints and signing certificates, at the paths the
 * product's credentials and push verifier are pointed at in sandbox mode:
 * `POST /token`, `GET /o/oauth2/v2/auth` (authorization endpoint),
 * `GET /oauth2/v1/certs` (kid -> PEM certificate) and `GET /oauth2/v3/certs`
 * (JWK set).
 */
export function registerOAuthRoutes(app: FastifyInstance, core: SandboxCore): void {
  // The token endpoint takes a form body, as https://oauth2.googleapis.com/token does.
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_request, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(body as string)));
  });

  app.post<{ Body: Record<string, string | undefined> | undefined }>('/token', (request) => {
    const form = typeof request.body === 'object' && request.body !== null ? request.body : {};
    const response = core.tokens.exchange(form, `${request.protocol}://${request.host}/token`);
    const emailAddress = core.tokens.grants.get(response.access_token)?.emailAddress;
    if (form.grant_type === 'refresh_token' && emailAddress !== undefined) {
      core.counters.countTokenRefresh(emailAddress);
    }
    return response;
  });

  // Google's authorization endpoint: the consent screen is replaced by login_hint or the next-consent control.
  app.get<{ Querystring: Record<string, string | undefined> }>('/o/oauth2/v2/auth', (request, reply) => {
    try {
      return reply.redirect(core.tokens.consent.authorize(request.query), 302);
    } catch (error) {
      if (error instanceof AuthorizationPageError) {
        return reply.status(error.status).send({ error: error.error, error_description: error.description });
      }
      throw error;
    }
  });

  app.get('/oauth2/v1/certs', (_request, reply) => {
    // Google lets verifiers cache certificates; the max-age here is shorter than its usual hours.
    return reply.header('cache-control', 'public, max-age=300').send(core.signingKey.pemCertificates());
  });
  app.get('/oauth2/v3/certs', (_request, reply) => {
    return reply.header('cache-control', 'public, max-age=300').send(core.signingKey.jwks());
  });
}
