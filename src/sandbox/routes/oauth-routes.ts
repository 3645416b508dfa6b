import type { FastifyInstance } from 'fastify';

import type { SandboxCore } from '../sandbox-core';

/**
 * Google's OAuth token endpoint and signing certificates, at the paths the
 * product's credentials and push verifier are pointed at in sandbox mode:
 * `POST /token`, `GET /oauth2/v1/certs` (kid -> PEM certificate) and
 * `GET /oauth2/v3/certs` (JWK set).
 */
export function registerOAuthRoutes(app: FastifyInstance, core: SandboxCore): void {
  // The token endpoint takes a form body, as https://oauth2.googleapis.com/token does.
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_request, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(body as string)));
  });

  app.post<{ Body: Record<string, string | undefined> | undefined }>('/token', (request) => {
    const form = typeof request.body === 'object' && request.body !== null ? request.body : {};
    const response = core.tokens.refresh(form);
    const mailbox = core.registry.find((form.refresh_token ?? '').replace(/^sandbox-refresh:/, ''));
    if (mailbox) {
      core.counters.countTokenRefresh(mailbox.emailAddress);
    }
    return response;
  });

  app.get('/oauth2/v1/certs', (_request, reply) => {
    // Google lets verifiers cache certificates; the max-age here is shorter than its usual hours.
    return reply.header('cache-control', 'public, max-age=300').send(core.signingKey.pemCertificates());
  });
  app.get('/oauth2/v3/certs', (_request, reply) => {
    return reply.header('cache-control', 'public, max-age=300').send(core.signingKey.jwks());
  });
}
