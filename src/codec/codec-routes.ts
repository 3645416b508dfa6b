import type { Payload, PayloadCodec } from '@temporalio/common';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/** A payload in proto3 JSON, as the Temporal UI and CLI send it: bytes as base64. */
interface JsonPayload {
  metadata?: Record<string, string>;
  data?: string;
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

function fromJson(payload: JsonPayload, index: number): Payload {
  const metadata: Record<string, Uint8Array> = {};
  for (const [key, value] of Object.entries(payload.metadata ?? {})) {
    if (typeof value !== 'string' || !BASE64.test(value)) {
      throw new Error(`payloads[${index}].metadata.${key} is not base64`);
    }
    metadata[key] = Buffer.from(value, 'base64');
  }
  if (payload.data !== undefined && (typeof payload.data !== 'string' || !BASE64.test(payload.data))) {
    throw new Error(`payloads[${index}].data is not base64`);
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
 * authorised callers get decrypted payloads.
 */
export function codecRoutes(app: FastifyInstance, options: CodecRoutesOptions): Promise<void> {
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
      if (!options.authorize(request)) {
        return reply.code(401).send({ code: 'UNAUTHORIZED', message: 'The codec endpoint needs `Authorization: Bearer <API token>`.' });
      }
      const body = request.body;
      if (!body || !Array.isArray(body.payloads)) {
        return reply.code(400).send({ code: 'INVALID_CODEC_REQUEST', message: 'The body must be {"payloads": [...]} with payloads in proto3 JSON.' });
      }
      let payloads: Payload[];
      try {
        payloads = body.payloads.map(fromJson);
      } catch (error) {
        return reply.code(400).send({ code: 'INVALID_CODEC_REQUEST', message: `${(error as Error).message}; send bytes as base64.` });
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
