import { createHash, timingSafeEqual } from 'node:crypto';

import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';

import { ApiError } from './errors';

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

/**
 * Builds a check that a request carries `Authorization: Bearer <API token>`,
 * compared as in requireApiToken, for routes such as the codec server that
 * answer a missing or wrong token themselves.
 */
export function hasApiToken(apiToken: string): (request: FastifyRequest) => boolean {
  const matches = matchesApiToken(apiToken);
  return (request) => {
    const match = /^Bearer (.+)$/i.exec(request.headers.authorization ?? '');
    return match !== null && matches(match[1]);
  };
}

/** Builds a constant-time check that a candidate string is the API token, for sign-in forms. */
export function matchesApiToken(apiToken: string): (candidate: string) => boolean {
  const expected = digest(apiToken);
  return (candidate) => timingSafeEqual(digest(candidate), expected);
}

/**
 * Builds the onRequest hook of the management routes: the request must carry
 * `Authorization: Bearer <API token>`. Both sides are hashed first, so the
 * comparison takes the same time whatever the length or content of the guess.
 * The token never reaches a log line or an error message.
 */
export function requireApiToken(apiToken: string) {
  const expected = digest(apiToken);
  return (request: FastifyRequest, _reply: FastifyReply, done: HookHandlerDoneFunction): void => {
    const header = request.headers.authorization;
    if (header === undefined || header === '') {
      done(ApiError.of('API_TOKEN_MISSING'));
      return;
    }
    const match = /^Bearer (.+)$/i.exec(header);
    if (!match || !timingSafeEqual(digest(match[1]), expected)) {
      done(ApiError.of('API_TOKEN_INVALID'));
      return;
    }
    done();
  };
}
