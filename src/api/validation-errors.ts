/**
 * Turns Fastify validation errors into catalogue errors whose message names
 * the field and the fix. Body schemas are checked by TypeBox without type
 * coercion and without dropping unknown fields, query strings and paths by
 * Fastify's Ajv, so both error shapes are read here.
 */
import type { FastifyError, FastifyRequest, FastifySchemaValidationError } from 'fastify';

import { checkHistoryId } from '../ingest/history-id';
import { ApiError } from './errors';

/** Turns a JSON pointer such as /credential/refreshToken into credential.refreshToken. */
function dottedPath(instancePath: string): string {
  return instancePath.replace(/^\//, '').replace(/\//g, '.');
}

/** Returns the names of the unknown fields: TypeBox lists them, Ajv names one. */
function unknownFieldNames(entry: FastifySchemaValidationError): string[] {
  const params = entry.params as { additionalProperties?: unknown; additionalProperty?: unknown };
  if (Array.isArray(params.additionalProperties)) {
    return params.additionalProperties.map(String);
  }
  return typeof params.additionalProperty === 'string' ? [params.additionalProperty] : [];
}

/** Describes an unknown field; fields inside `credential` get the reminder that secrets do not belong there. */
function describeUnknownField(context: string, entry: FastifySchemaValidationError): string {
  const parent = dottedPath(entry.instancePath);
  const names = unknownFieldNames(entry).map((name) => `${context}.${parent === '' ? '' : `${parent}.`}${name}`);
  const problem = `${names.join(', ') || `${context}.${parent}`} is not a known field; remove it or check its spelling`;
  if (parent === 'credential') {
    return `${problem}. credential is a reference to stored credentials, {provider, id}, never a secret such as a refresh token`;
  }
  return problem;
}

/** Describes a startHistoryId that failed its schema: a JSON number, or a string not in canonical form. */
function describeHistoryId(where: string, value: unknown): string {
  if (typeof value !== 'string') {
    return `${where} must be a string: send the historyId as a decimal string such as "9007199254740993", because a JSON number above 2^53 loses digits`;
  }
  const checked = checkHistoryId(value);
  return checked.ok ? `${where} is invalid` : `${where} ${checked.problem}`;
}

/** Turns a Fastify validation error into INVALID_EMAIL_ADDRESS or INVALID_REQUEST. */
export function translateValidation(error: FastifyError, request: FastifyRequest): ApiError {
  const context = error.validationContext ?? 'request';
  const entries = error.validation ?? [];

  // 1. Unknown fields first: TypeBox also reports them as a "schema is false" entry, which names no field.
  const unknown = entries.find((entry) => entry.keyword === 'additionalProperties');
  if (unknown !== undefined) {
    return ApiError.of('INVALID_REQUEST', { problem: describeUnknownField(context, unknown) });
  }

  // 2. The fields whose errors have their own wording.
  const first = entries[0];
  const field = first === undefined ? '' : dottedPath(first.instancePath);
  const source = (context === 'params' ? request.params : request.body) as Record<string, unknown> | undefined;
  if (field === 'emailAddress' && (context === 'params' || context === 'body') && typeof source?.emailAddress === 'string') {
    return ApiError.of('INVALID_EMAIL_ADDRESS', { value: source.emailAddress });
  }
  const where = field === '' ? context : `${context}.${field}`;
  if (field === 'startHistoryId' && context === 'body') {
    return ApiError.of('INVALID_REQUEST', { problem: describeHistoryId(where, source?.startHistoryId) });
  }
  return ApiError.of('INVALID_REQUEST', { problem: `${where} ${first?.message ?? 'is invalid'}` });
}
