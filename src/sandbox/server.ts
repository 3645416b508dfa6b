import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';

import type { SandboxControls } from './controls';
import { installErrorHandler } from './routes/error-handler';
import { registerControlRoutes } from './routes/control-routes';
import { registerGmailRoutes } from './routes/gmail-routes';
import { registerOAuthRoutes } from './routes/oauth-routes';
import type { SandboxCore } from './sandbox-core';

/** Builds the sandbox's Fastify app: Gmail REST, OAuth endpoints and control routes. */
export function buildSandboxServer(core: SandboxCore, controls: SandboxControls, logger: Logger): FastifyInstance {
  const app = Fastify({
    // The project's pino and Fastify's bundled pino types differ only in version.
    loggerInstance: logger as unknown as FastifyBaseLogger,
    // Tests and benchmarks send thousands of requests; per-request lines would drown the useful ones.
    logController: new LogController({ disableRequestLogging: true }),
    // Gmail ids and addresses are short; a large body is a client bug.
    bodyLimit: 1024 * 1024,
    // Fastify's defaults strip unknown fields and coerce types; the sandbox
    // rejects both, as Gmail rejects a request it cannot read.
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, allErrors: false } },
  });
  installErrorHandler(app);
  registerGmailRoutes(app, core);
  registerOAuthRoutes(app, core);
  registerControlRoutes(app, controls);

  // Watches, tokens and control changes alter state outside mailbox history; save after them.
  app.addHook('onResponse', (request, _reply, done) => {
    if (request.method !== 'GET') {
      core.markChanged();
    }
    done();
  });
  return app;
}
