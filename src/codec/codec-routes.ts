import type { Payload, PayloadCodec } from '@temporalio/common';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

import { CODEC_SESSION_COOKIE, CODEC_SESSION_SECONDS, readCookie, signCodecSession, verifyCodecSession } from './codec-session';

/** A payload in proto3 JSON, as the Temporal UI and CLI send it: bytes as base64. */
interface JsonPayload {
  metadata?: Record<string, string>;
  data?: string;
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function fromJson(payload: JsonPayload, index: number): Payload {
  if (!isObject(payload)) {
    throw new Error(`payloads[${index}] is not an object; send each payload as {"metadata": {...}, "data": "<base64>"}`);
  }
  if (payload.metadata !== undefined && !isObject(payload.metadata)) {
    throw new Error(`payloads[${index}].metadata is not an object; send it as {"<key>": "<base64>"}`);
  }
  const metadata: Record<string, Uint8Array> = {};
  for (const [key, value] of Object.entries(payload.metadata ?? {})) {
    if (typeof value !== 'string' || !BASE64.test(value)) {
      throw new Error(`payloads[${index}].metadata.${key} is not base64; send bytes as base64`);
    }
    metadata[key] = Buffer.from(value, 'base64');
  }
  if (payload.data !== undefined && (typeof payload.data !== 'string' || !BASE64.test(payload.data))) {
    throw new Error(`payloads[${index}].data is not base64; send bytes as base64`);
  }
  return { metadata, data: Buffer.from(payload.data ?? '', 'base64') };
}

function toJson(payload: Payload): JsonPayload {
  return {
    metadata: Object.fromEntries(Object.entries(payload.metadata ?? {}).map(([key, value]) => [key, Buffer.from(value ?? []).toString('base64')])),
    data: Buffer.from(payload.data ?? []).toString('base64'),
  };
}

export interface CodecRoutesOptions {
  codec: PayloadCodec;
  /** Bearer token that the UI sends; compared in constant time by the caller's hook. */
  authorize: (request: FastifyRequest) => boolean;
  /** Origins allowed to call the endpoint from a browser, such as the Temporal UI's. */
  allowedOrigins: string[];
  /** Largest request body in bytes, CODEC_BODY_LIMIT_BYTES by default. */
  bodyLimitBytes?: number;
  /** Sign-in for browsers; unset means the routes accept only what `authorize` accepts. */
  login?: CodecLoginOptions;
}

/**
 * Sign-in for the Temporal UI, which cannot send gmail-sync's API token but
 * sends cookies when its codec setting "include credentials" is on. `GET
 * /login` serves a form; `POST /login` with the API token sets an HttpOnly,
 * SameSite=Strict session cookie that `/encode` and `/decode` then accept.
 */
export interface CodecLoginOptions {
  /** True when the candidate is the API token, compared in constant time. */
  checkToken: (candidate: string) => boolean;
  /** HMAC key of the session cookie, from deriveCodecSessionKey. */
  sessionKey: Buffer;
  /** Session lifetime, CODEC_SESSION_SECONDS by default. */
  sessionSeconds?: number;
  /** Current time in epoch milliseconds; tests move it. */
  now?: () => number;
}

/** Largest sign-in body in bytes: a form or JSON object with one token. */
const LOGIN_BODY_LIMIT_BYTES = 4096;

const LOGIN_FORM = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>gmail-sync codec sign-in</title></head>
<body>
<h1>Sign in to the gmail-sync codec server</h1>
<p>The Temporal UI decrypts gmail-sync's payloads through this server. Enter the API token (GMAIL_SYNC_API_TOKEN)
to let this browser do so, then turn on "Include cross-origin credentials" in the UI's codec server settings.</p>
<form method="post" action="login">
<label>API token <input type="password" name="token" autocomplete="off" required></label>
<button type="submit">Sign in</button>
</form>
</body></html>
`;

function page(title: string, text: string): string {
  return `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>${title}</title></head><body><p>${text}</p></body></html>\n`;
}

/** Registers GET and POST /login and returns the check of the session cookie. */
function loginRoutes(app: FastifyInstance, login: CodecLoginOptions): (request: FastifyRequest) => boolean {
  const nowSeconds = () => Math.floor((login.now ?? Date.now)() / 1000);
  const lifetime = login.sessionSeconds ?? CODEC_SESSION_SECONDS;

  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_request, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(body as string)));
  });

  app.get('/login', (_request, reply) => reply.type('text/html; charset=utf-8').send(LOGIN_FORM));

  app.post<{ Body: { token?: unknown } }>('/login', { bodyLimit: LOGIN_BODY_LIMIT_BYTES }, (request, reply) => {
    const token = request.body?.token;
    reply.type('text/html; charset=utf-8');
    if (typeof token !== 'string' || !login.checkToken(token)) {
      request.log.info('codec sign-in rejected: wrong API token');
      return reply.code(401).send(page('Sign-in failed', 'That is not the API token. Go back and enter GMAIL_SYNC_API_TOKEN.'));
    }
    const secure = request.protocol === 'https' || request.headers['x-forwarded-proto'] === 'https';
    const cookie = [
      `${CODEC_SESSION_COOKIE}=${signCodecSession(login.sessionKey, nowSeconds(), lifetime)}`,
      'Path=/codec',
      `Max-Age=${lifetime}`,
      'HttpOnly',
      'SameSite=Strict',
      ...(secure ? ['Secure'] : []),
    ].join('; ');
    request.log.info('codec sign-in accepted');
    return reply
      .header('set-cookie', cookie)
      .send(page('Signed in', `This browser may decode payloads for ${Math.round(lifetime / 3600)} hours. Reload the Temporal UI.`));
  });

  return (request) => {
    const value = readCookie(request.headers.cookie, CODEC_SESSION_COOKIE);
    return value !== undefined && verifyCodecSession(login.sessionKey, value, nowSeconds());
  };
}

/**
 * Default body limit of the codec routes: 8 MiB, room for a batch of payloads
 * near the Temporal server's default 2 MiB blob size limit (`limit.blobSize.error`)
 * once base64 adds a third.
 */
export const CODEC_BODY_LIMIT_BYTES = 8 * 1024 * 1024;

/**
 * Registers a Temporal codec server under the current prefix: `POST /encode`
 * and `POST /decode` with `{payloads: [...]}` in proto3 JSON, as the Temporal
 * UI (`--ui-codec-endpoint`) and `temporal --codec-endpoint` call them. Only
 * authorised callers get decrypted payloads: a bearer token that `authorize`
 * accepts, or a session cookie from `/login` when `login` is set.
 */
export function codecRoutes(app: FastifyInstance, options: CodecRoutesOptions): Promise<void> {
  const login = options.login;
  const hasSession = login ? loginRoutes(app, login) : () => false;
  const cors = (request: FastifyRequest, reply: FastifyReply): void => {
    const origin = request.headers.origin;
    if (origin && options.allowedOrigins.includes(origin)) {
      reply.header('access-control-allow-origin', origin);
      reply.header('access-control-allow-credentials', 'true');
      reply.header('access-control-allow-headers', 'authorization, content-type, x-namespace');
      reply.header('access-control-allow-methods', 'POST, OPTIONS');
      reply.header('vary', 'origin');
    }
  };

  for (const direction of ['encode', 'decode'] as const) {
    app.options(`/${direction}`, (request, reply) => {
      cors(request, reply);
      return reply.code(204).send();
    });

    app.post<{ Body: { payloads?: JsonPayload[] } }>(`/${direction}`, { bodyLimit: options.bodyLimitBytes ?? CODEC_BODY_LIMIT_BYTES }, async (request, reply) => {
      cors(request, reply);
      if (!options.authorize(request) && !hasSession(request)) {
        const signIn = login ? ' or the session cookie that /codec/login sets' : '';
        return reply.code(401).send({ code: 'UNAUTHORIZED', message: `The codec endpoint needs \`Authorization: Bearer <API token>\`${signIn}.` });
      }
      const body = request.body;
      // Proto3 JSON leaves out an empty list, so `{}` is an empty batch: the Temporal CLI sends it for a query without arguments.
      if (!body || typeof body !== 'object' || (body.payloads !== undefined && !Array.isArray(body.payloads))) {
        return reply.code(400).send({ code: 'INVALID_CODEC_REQUEST', message: 'The body must be {"payloads": [...]} with payloads in proto3 JSON.' });
      }
      let payloads: Payload[];
      try {
        payloads = (body.payloads ?? []).map(fromJson);
      } catch (error) {
        return reply.code(400).send({ code: 'INVALID_CODEC_REQUEST', message: `${(error as Error).message}.` });
      }
      try {
        const result = direction === 'encode' ? await options.codec.encode(payloads) : await options.codec.decode(payloads);
        return { payloads: result.map(toJson) };
      } catch (error) {
        request.log.info({ err: error, direction }, 'codec request failed');
        return reply.code(422).send({ code: 'CODEC_FAILED', message: `${(error as Error).message}` });
      }
    });
  }
  return Promise.resolve();
}
