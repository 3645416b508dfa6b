import { ServiceError, type Client } from '@temporalio/client';

import type { GmailNotification } from '../../src/ingest/gmail-notification';
import { ingestNotification, TemporalUnavailableError, type IngestLogger } from '../../src/ingest/ingest-notification';
import { createMetrics, type Metrics } from '../../src/metrics/metrics';
import type { NotifyInput } from '../../workflows/mailbox/types';

/** Builds a gRPC error as @grpc/grpc-js does: a message and a numeric status code. */
function grpcError(code: number, message: string): Error {
  return Object.assign(new Error(`${code} ${message}`), { code, details: message });
}

interface LoggedLine {
  level: string;
  fields: Record<string, unknown>;
  msg: string;
}

/**
 * A client whose notify signal fails with `failure`, or records its input
 * when `failure` is undefined. A real Temporal server cannot be made to
 * return INVALID_ARGUMENT for a signal that fits the API's body limit, so
 * this unit test uses a stub client instead.
 */
function signallingClient(failure: unknown, signalled: NotifyInput[] = []): Client {
  const client = {
    withDeadline: <T>(_deadline: number, call: () => Promise<T>) => call(),
    workflow: {
      getHandle: () => ({
        signal: (_definition: unknown, input: NotifyInput) => {
          if (failure !== undefined) {
            return Promise.reject(failure as Error);
          }
          signalled.push(input);
          return Promise.resolve();
        },
      }),
    },
  };
  return client as unknown as Client;
}

function recordingLogger(lines: LoggedLine[]): IngestLogger {
  const at = (level: string) => (fields: Record<string, unknown>, msg: string) => lines.push({ level, fields, msg });
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') } as unknown as IngestLogger;
}

const notification: GmailNotification = { emailAddress: 'user@example.com', historyId: '1234' };

async function deadLetterCount(metrics: Metrics, reason: string): Promise<number> {
  const metric = await metrics.deadLetters.get();
  return metric.values.find((entry) => entry.labels.reason === reason)?.value ?? 0;
}

describe('ingestNotification', () => {
  it.each([
    ['UNAVAILABLE', new ServiceError('Failed to signal', { cause: grpcError(14, 'UNAVAILABLE: No connection established') })],
    ['DEADLINE_EXCEEDED', new ServiceError('Failed to signal', { cause: grpcError(4, 'DEADLINE_EXCEEDED: Deadline exceeded') })],
    ['a closed channel', new Error('Channel has been shut down')],
  ])('throws TemporalUnavailableError on %s', async (_name, failure) => {
    const deps = { client: signallingClient(failure), metrics: createMetrics(), signalTimeoutMs: 1000 };

    await expect(ingestNotification(deps, 'push', { ok: true, notification }, { messageId: 'm-1' }, recordingLogger([]))).rejects.toThrow(
      TemporalUnavailableError,
    );
  });

  it.each([
    ['INVALID_ARGUMENT', grpcError(3, 'INVALID_ARGUMENT: Blob data size exceeds limit.')],
    ['PERMISSION_DENIED', grpcError(7, 'PERMISSION_DENIED: Request unauthorized.')],
  ])('records a signal rejected with %s as a dead letter', async (_name, cause) => {
    const metrics = createMetrics();
    const lines: LoggedLine[] = [];
    const deps = { client: signallingClient(new ServiceError('Failed to signal', { cause })), metrics, signalTimeoutMs: 1000 };

    const result = await ingestNotification(deps, 'push', { ok: true, notification }, { messageId: 'm-2' }, recordingLogger(lines));

    expect(result).toEqual({ outcome: 'dead_letter', reason: 'signal_rejected' });
    expect(await deadLetterCount(metrics, 'signal_rejected')).toBe(1);
    const line = lines.find((entry) => entry.fields.reason === 'signal_rejected');
    expect(line?.level).toBe('error');
    expect(line?.fields.messageId).toBe('m-2');
    expect(line?.msg).toContain('dead letter');
  });

  it.each([
    ['a messageId over 128 characters', { messageId: 'x'.repeat(129), publishTime: '2026-12-04T20:00:00.000Z' }, { historyId: '1234', publishTime: '2026-12-04T20:00:00.000Z' }],
    ['a publishTime that is not RFC 3339', { messageId: 'm-3', publishTime: 'yesterday' }, { historyId: '1234', messageId: 'm-3' }],
    ['a publishTime over 64 characters', { messageId: 'm-4', publishTime: `2026-12-04T20:00:00.${'1'.repeat(60)}Z` }, { historyId: '1234', messageId: 'm-4' }],
  ])('leaves %s out of the signal and logs it', async (_name, meta, expected) => {
    const signalled: NotifyInput[] = [];
    const lines: LoggedLine[] = [];
    const deps = { client: signallingClient(undefined, signalled), metrics: createMetrics(), signalTimeoutMs: 1000 };

    const result = await ingestNotification(deps, 'pull', { ok: true, notification }, meta, recordingLogger(lines));

    expect(result).toEqual({ outcome: 'signalled' });
    expect(signalled).toEqual([expected]);
    expect(lines.some((line) => line.level === 'warn' && line.msg.includes('left out of the notify signal'))).toBe(true);
    expect(JSON.stringify(lines)).not.toContain('x'.repeat(129));
  });

  it('keeps a 128-character messageId and an offset publishTime', async () => {
    const signalled: NotifyInput[] = [];
    const meta = { messageId: 'y'.repeat(128), publishTime: '2026-12-04T21:00:00+01:00' };
    const deps = { client: signallingClient(undefined, signalled), metrics: createMetrics(), signalTimeoutMs: 1000 };

    await ingestNotification(deps, 'pull', { ok: true, notification }, meta, recordingLogger([]));

    expect(signalled).toEqual([{ historyId: '1234', ...meta }]);
  });
});
