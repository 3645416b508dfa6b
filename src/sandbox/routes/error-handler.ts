import type { FastifyError, FastifyInstance } from 'fastify';

import { OAuthError } from '../auth/token-store';
import { GoogleApiError, invalidArgument } from '../google-error';

/**
 * Writes every failure in Google's shape: Gmail errors as
 * `{error:{code,message,errors,status}}`, token endpoint errors as
 * `{error, error_description}`. Schema and JSON parse failures become a 400
 * naming the field, and an unexpected exception becomes a logged 500, so a
 * bad request gets an error response instead of crashing the sandbox.
 */
export function installErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError | Error, request, reply) => {
    if (error instanceof OAuthError) {
      return reply.status(400).send({ error: error.error, error_description: error.description });
    }
    if (error instanceof GoogleApiError) {
      if (error.code >= 500) {
        request.log.info({ code: error.code }, 'returning an injected server error');
      }
      return reply.status(error.code).headers(error.headers).send(error.toBody());
    }
    const fastifyError = error as FastifyError;
    if (fastifyError.validation) {
      // Ajv's text for an unknown field leaves out its name, so add it.
      const unknownField = fastifyError.validation[0]?.params?.additionalProperty;
      const suffix = typeof unknownField === 'string' ? `: ${unknownField}` : '';
      return reply.status(400).send(invalidArgument(`Invalid request: ${fastifyError.message}${suffix}`).toBody());
    }
    if (fastifyError.statusCode !== undefined && fastifyError.statusCode >= 400 && fastifyError.statusCode < 500) {
      const message = fastifyError.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || error instanceof SyntaxError ? 'Invalid JSON payload received.' : error.message;
      return reply.status(fastifyError.statusCode).send(new GoogleApiError(fastifyError.statusCode, message, 'badRequest').toBody());
    }
    request.log.error({ err: error }, 'sandbox route failed');
    return reply.status(500).send(new GoogleApiError(500, 'Backend Error', 'backendError').toBody());
  });

  app.setNotFoundHandler((request, reply) => {
    return reply.status(404).send(new GoogleApiError(404, `Not found: ${request.method} ${request.url.split('?')[0]}`, 'notFound').toBody());
  });
}
