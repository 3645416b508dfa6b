import net from 'node:net';
import type { AddressInfo } from 'node:net';

import { Client, Connection } from '@temporalio/client';

import { ConfigError, loadConfig } from '../../src/config';
import { buildApiServer, requireApiSettings } from '../../src/api/server';
import { API_TOKEN, captureLogger, startApiHarness, type ApiHarness } from './helpers/api-harness';

function validPush(harness: ApiHarness) {
  const data = Buffer.from('{"emailAddress":"down@example.com","historyId":"42"}').toString('base64');
  return {
    method: 'POST' as const,
    url: '/pubsub/push',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${harness.issuer.sign()}` },
    payload: JSON.stringify({ message: { data, messageId: 'down-1' } }),
  };
}

describe('API startup settings', () => {
  it.each([
    ['GMAIL_SYNC_PUSH_AUDIENCE', { GMAIL_SYNC_PUSH_SERVICE_ACCOUNT: 'push@example.iam.gserviceaccount.com', GMAIL_SYNC_API_TOKEN: API_TOKEN }],
    ['GMAIL_SYNC_PUSH_SERVICE_ACCOUNT', { GMAIL_SYNC_PUSH_AUDIENCE: 'https://example.com/pubsub/push', GMAIL_SYNC_API_TOKEN: API_TOKEN }],
    ['GMAIL_SYNC_API_TOKEN', { GMAIL_SYNC_PUSH_AUDIENCE: 'https://example.com/pubsub/push', GMAIL_SYNC_PUSH_SERVICE_ACCOUNT: 'push@example.iam.gserviceaccount.com' }],
  ])('rejects a start without %s', (missing, env) => {
    const config = loadConfig(env);

    expect(() => requireApiSettings(config)).toThrow(ConfigError);
    expect(() => requireApiSettings(config)).toThrow(`${missing} is missing`);
  });

  it('does not build a server without push settings', async () => {
    const config = loadConfig({ GMAIL_SYNC_API_TOKEN: API_TOKEN });
    const logs: never[] = [];

    await expect(
      buildApiServer({
        config,
        client: {} as never,
        logger: captureLogger(logs, []),
        mailboxDefaults: { credential: { provider: 'sandbox' } },
        resolveMailboxAddress: (address) => Promise.resolve(address),
      }),
    ).rejects.toThrow('GMAIL_SYNC_PUSH_AUDIENCE is missing');
  });
});

describe('API shutdown and Temporal outages', () => {
  let harness: ApiHarness;

  beforeAll(async () => {
    harness = await startApiHarness({ worker: false });
  });

  afterAll(async () => {
    await harness?.teardown();
  });

  it('returns 503 to pushes while draining', async () => {
    const api = await harness.startApi();
    api.startDraining();

    const push = await api.app.inject(validPush(harness));
    const ready = await api.app.inject({ method: 'GET', url: '/readyz' });

    expect(push.statusCode).toBe(503);
    expect(push.json()).toMatchObject({ code: 'SHUTTING_DOWN' });
    expect(ready.statusCode).toBe(503);
    expect(ready.json()).toMatchObject({ status: 'not ready', draining: true });
  });

  it('refuses new connections after close', async () => {
    const api = await harness.startApi();
    const address = await api.app.listen({ port: 0, host: '127.0.0.1' });
    api.startDraining();
    await api.app.close();

    await expect(fetch(`${address}/healthz`)).rejects.toThrow();
  });

  it('returns 503 to list when Temporal hangs', async () => {
    // A loopback server that accepts connections and never responds, so every call waits for its deadline.
    const sockets: net.Socket[] = [];
    const blackHole = net.createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => blackHole.listen(0, '127.0.0.1', resolve));
    const connection = Connection.lazy({ address: `127.0.0.1:${(blackHole.address() as AddressInfo).port}` });
    const api = await harness.startApi({ temporalDeadlines: { readMs: 300 } }, new Client({ connection }));
    const started = Date.now();

    const response = await api.app.inject({ method: 'GET', url: '/v1/mailboxes', headers: { authorization: `Bearer ${API_TOKEN}` } });

    expect(response.statusCode).toBe(503);
    expect(response.json()).toMatchObject({ code: 'TEMPORAL_UNAVAILABLE' });
    expect(Date.now() - started).toBeLessThan(5000);
    await connection.close();
    sockets.forEach((socket) => socket.destroy());
    await new Promise<void>((resolve) => blackHole.close(() => resolve()));
  });

  it('returns 503 to list on a closed connection', async () => {
    const connection = await Connection.connect({ address: harness.env.address });
    const api = await harness.startApi({}, new Client({ connection }));
    await connection.close();

    const response = await api.app.inject({ method: 'GET', url: '/v1/mailboxes', headers: { authorization: `Bearer ${API_TOKEN}` } });

    expect(response.statusCode).toBe(503);
    expect(response.json()).toMatchObject({ code: 'TEMPORAL_UNAVAILABLE' });
  });
  it('returns 503 once Temporal stops', async () => {
    // The API keeps its own connection, as a separate process would, while the server goes away.
    const connection = await Connection.connect({ address: harness.env.address });
    const api = await harness.startApi({}, new Client({ connection }));
    expect((await api.app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200);

    await harness.stopTemporal();
    const push = await api.app.inject(validPush(harness));
    const state = await api.app.inject({ method: 'GET', url: '/v1/mailboxes/down@example.com', headers: { authorization: `Bearer ${API_TOKEN}` } });
    const ready = await api.app.inject({ method: 'GET', url: '/readyz' });

    expect(push.statusCode).toBe(503);
    expect(push.json()).toMatchObject({ code: 'TEMPORAL_UNAVAILABLE' });
    expect(push.headers['retry-after']).toBe('5');
    expect(state.statusCode).toBe(503);
    expect(state.json()).toMatchObject({ code: 'TEMPORAL_UNAVAILABLE' });
    expect(ready.statusCode).toBe(503);
    const signalFailure = harness.logs.find((line) => line.msg.startsWith('notify signal failed'));
    expect(signalFailure?.level).toBe(50);
    expect(signalFailure?.messageId).toBe('down-1');
    await connection.close();
  });

});
