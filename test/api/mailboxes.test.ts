import type { ApiServer } from '../../src/api/server';
import { API_TOKEN, mailboxId, startApiHarness, TOPIC_NAME, type ApiHarness } from './helpers/api-harness';
import { FAILING_TASK_PREFIX, inputQuery } from './helpers/recording-mailbox-workflow';

const auth = { authorization: `Bearer ${API_TOKEN}` };

describe('mailbox API', () => {
  let harness: ApiHarness;
  let api: ApiServer;

  beforeAll(async () => {
    harness = await startApiHarness();
    api = await harness.startApi({
      // Aliases resolve to the canonical address, as Gmail's getProfile does.
      resolveMailboxAddress: (emailAddress) =>
        Promise.resolve(emailAddress.toLowerCase() === 'alias@example.com' ? 'canonical@example.com' : emailAddress.toLowerCase()),
    });
  });

  afterAll(async () => {
    await harness?.teardown();
  });

  function start(body: object, headers: Record<string, string> = auth) {
    return api.app.inject({ method: 'POST', url: '/v1/mailboxes', headers, payload: body });
  }

  describe('authentication', () => {
    it('rejects a request without a token with 401', async () => {
      const response = await api.app.inject({ method: 'GET', url: '/v1/mailboxes' });

      expect(response.statusCode).toBe(401);
      expect(response.json()).toMatchObject({ code: 'API_TOKEN_MISSING' });
      expect(response.headers['www-authenticate']).toBe('Bearer');
    });

    it('rejects a wrong token with 401', async () => {
      const response = await api.app.inject({ method: 'GET', url: '/v1/mailboxes', headers: { authorization: 'Bearer wrong-token-0123456789' } });

      expect(response.statusCode).toBe(401);
      expect(response.json()).toMatchObject({ code: 'API_TOKEN_INVALID' });
    });

    it('never logs the API token', async () => {
      await api.app.inject({ method: 'GET', url: '/v1/mailboxes', headers: auth });
      await api.app.inject({ method: 'GET', url: '/v1/mailboxes', headers: { authorization: `Bearer ${API_TOKEN}x` } });

      expect(harness.logText()).not.toContain(API_TOKEN);
    });

    it('counts rejected requests by route and status', async () => {
      const metric = await api.metrics.registry.getSingleMetric('gmail_sync_http_requests_total')?.get();

      expect(metric?.values).toContainEqual(
        expect.objectContaining({ labels: { method: 'GET', route: '/v1/mailboxes', status: '401' }, value: expect.any(Number) as number }),
      );
    });
  });

  describe('start', () => {
    it('returns 201, then 200 when running', async () => {
      const first = await start({ emailAddress: 'start@example.com' });
      const second = await start({ emailAddress: 'start@example.com' });

      expect(first.statusCode).toBe(201);
      expect(first.json()).toMatchObject({ emailAddress: 'start@example.com', workflowId: 'gmail-mailbox/start@example.com' });
      expect(second.statusCode).toBe(200);
      expect(second.json<{ runId: string }>().runId).toBe(first.json<{ runId: string }>().runId);
    });

    it('passes options and configured defaults to the workflow', async () => {
      const response = await start({
        emailAddress: 'options@example.com',
        labelIds: ['INBOX'],
        labelFilterBehavior: 'include',
        includeLabelEvents: true,
        backfillDays: 3,
      });

      expect(response.statusCode).toBe(201);
      const input = await harness.env.client.workflow.getHandle(mailboxId('options@example.com')).query(inputQuery);
      expect(input).toEqual({
        emailAddress: 'options@example.com',
        watch: { topicName: TOPIC_NAME, labelIds: ['INBOX'], labelFilterBehavior: 'include' },
        credential: { provider: 'sandbox' },
        delivery: { includeLabelEvents: true },
        backfillDays: 3,
      });
    });

    it('keys an alias by the address getProfile returns', async () => {
      const response = await start({ emailAddress: 'Alias@Example.com' });

      expect(response.statusCode).toBe(201);
      expect(response.json()).toMatchObject({ emailAddress: 'canonical@example.com', workflowId: 'gmail-mailbox/canonical@example.com' });
    });

    it('rejects an address that is not an address with 400', async () => {
      const response = await start({ emailAddress: 'not-an-address' });

      expect(response.statusCode).toBe(400);
      expect(response.json()).toMatchObject({ code: 'INVALID_EMAIL_ADDRESS' });
      expect(response.json<{ message: string }>().message).toContain('"not-an-address" is not an email address');
    });

    it('rejects an unknown option with 400 naming it', async () => {
      const response = await start({ emailAddress: 'x@example.com', labelFilterBehavior: 'sometimes' });

      expect(response.statusCode).toBe(400);
      expect(response.json()).toMatchObject({ code: 'INVALID_REQUEST' });
      expect(response.json<{ message: string }>().message).toContain('labelFilterBehavior');
    });

    it('rejects a topic name with a space with 400', async () => {
      const response = await start({ emailAddress: 'topic-space@example.com', topicName: `${TOPIC_NAME} ` });

      expect(response.statusCode).toBe(400);
      expect(response.json<{ message: string }>().message).toContain('body.topicName must match pattern');
    });

    it('rejects an unknown field with 400 naming it', async () => {
      const response = await start({ emailAddress: 'typo@example.com', backfilDays: 30 });

      expect(response.statusCode).toBe(400);
      expect(response.json()).toMatchObject({ code: 'INVALID_REQUEST' });
      expect(response.json<{ message: string }>().message).toContain('body.backfilDays is not a known field');
    });

    it('rejects a secret inside credential with 400', async () => {
      const secret = 'refresh-token-value-0123456789';

      const response = await start({ emailAddress: 'secret@example.com', credential: { provider: 'google', refreshToken: secret } });

      expect(response.statusCode).toBe(400);
      const message = response.json<{ message: string }>().message;
      expect(message).toContain('body.credential.refreshToken is not a known field');
      expect(message).toContain('never a secret');
      expect(message).not.toContain(secret);
      expect(harness.logText()).not.toContain(secret);
    });

    it('rejects a token as the credential id with 400', async () => {
      const secret = '1//0g-refresh-token-value-0123456789';

      const response = await start({ emailAddress: 'secret-id@example.com', credential: { provider: 'oauth', id: secret } });

      expect(response.statusCode).toBe(400);
      expect(response.json<{ message: string }>().message).toContain('body.credential.id must match pattern');
      expect(response.body).not.toContain(secret);
      expect(harness.logText()).not.toContain(secret);
    });

    it.each([
      ['an address in an array', { emailAddress: ['wrong-type@example.com'] }, 'body.emailAddress'],
      ['labelIds as a string', { emailAddress: 'wrong-type@example.com', labelIds: 'INBOX' }, 'body.labelIds'],
      ['backfillDays as a string', { emailAddress: 'wrong-type@example.com', backfillDays: '5' }, 'body.backfillDays'],
      ['includeLabelEvents as a string', { emailAddress: 'wrong-type@example.com', includeLabelEvents: 'true' }, 'body.includeLabelEvents'],
      ['a body that is an array', ['wrong-type@example.com'], 'body must be object'],
    ])('rejects %s with 400 without coercing it', async (_name, body, field) => {
      const response = await start(body);

      expect(response.statusCode).toBe(400);
      expect(response.json()).toMatchObject({ code: 'INVALID_REQUEST' });
      expect(response.json<{ message: string }>().message).toContain(field);
    });

    it('rejects a local part over 64 characters with 400', async () => {
      const response = await start({ emailAddress: `${'a'.repeat(65)}@example.com` });

      expect(response.statusCode).toBe(400);
      expect(response.json()).toMatchObject({ code: 'INVALID_EMAIL_ADDRESS' });
    });

    it('rejects a text/plain body with 415', async () => {
      const response = await api.app.inject({
        method: 'POST',
        url: '/v1/mailboxes',
        headers: { ...auth, 'content-type': 'text/plain' },
        payload: '{"emailAddress":"plain@example.com"}',
      });

      expect(response.statusCode).toBe(415);
      expect(response.json()).toMatchObject({ code: 'UNSUPPORTED_MEDIA_TYPE' });
    });

    it('rejects invalid JSON with 400', async () => {
      const response = await api.app.inject({
        method: 'POST',
        url: '/v1/mailboxes',
        headers: { ...auth, 'content-type': 'application/json' },
        payload: '{"emailAddress":',
      });

      expect(response.statusCode).toBe(400);
      expect(response.json()).toMatchObject({ code: 'INVALID_JSON' });
    });

    it('returns 502 when getProfile fails', async () => {
      const failing = await harness.startApi({ resolveMailboxAddress: () => Promise.reject(new Error('invalid_grant')) });

      const response = await failing.app.inject({ method: 'POST', url: '/v1/mailboxes', headers: auth, payload: { emailAddress: 'revoked@example.com' } });

      expect(response.statusCode).toBe(502);
      expect(response.json()).toMatchObject({ code: 'MAILBOX_ADDRESS_UNRESOLVED' });
      expect(response.json<{ message: string }>().message).toContain('invalid_grant');
    });

    it('rejects a missing topic without a default with 400', async () => {
      const noTopic = await harness.startApi({ mailboxDefaults: { credential: { provider: 'sandbox' } } });

      const response = await noTopic.app.inject({ method: 'POST', url: '/v1/mailboxes', headers: auth, payload: { emailAddress: 'topicless@example.com' } });

      expect(response.statusCode).toBe(400);
      expect(response.json()).toMatchObject({ code: 'WATCH_TOPIC_MISSING' });
    });
  });

  describe('delivery options', () => {
    const webhook = { target: 'webhook', webhookUrl: 'https://hooks.example.com/gmail', webhookSecretRef: 'billing' };

    it.each([
      ['an unknown target', { target: 'pigeon' }, '"pigeon" is not a known target; use one of log, webhook'],
      ['a webhook without URL', { target: 'webhook', webhookSecretRef: 'billing' }, 'delivery.webhookUrl is missing'],
      ['a webhook URL that is not http(s)', { ...webhook, webhookUrl: 'ftp://hooks.example.com/gmail' }, '"ftp://hooks.example.com/gmail" uses ftp; use an https URL'],
      ['a webhook URL that is not a URL', { ...webhook, webhookUrl: 'hooks.example.com' }, '"hooks.example.com" is not a URL'],
      ['plain http to a remote host', { ...webhook, webhookUrl: 'http://hooks.example.com/gmail' }, 'plain http to a host other than loopback; use https'],
      ['a webhook without secret reference', { target: 'webhook', webhookUrl: webhook.webhookUrl }, 'delivery.webhookSecretRef undefined is missing or invalid'],
      ['an unknown format', { format: 'raw' }, 'delivery.format "raw" is invalid; use metadata or full'],
      ['a workflow target without type', { target: 'workflow', workflowTaskQueue: 'gmail-handlers' }, 'delivery.workflowType undefined is missing or invalid'],
      ['a workflow type with a space', { target: 'workflow', workflowType: 'handle mail', workflowTaskQueue: 'gmail-handlers' }, 'delivery.workflowType "handle mail" is missing or invalid'],
      ['a workflow target without task queue', { target: 'workflow', workflowType: 'handleGmailEvent' }, 'delivery.workflowTaskQueue undefined is missing or invalid; name the task queue your workers poll'],
      ['a webhook URL with a user and password', { ...webhook, webhookUrl: 'https://ops:hunter2@hooks.example.com/gmail' }, '"https://hooks.example.com/gmail" carries a user name or password'],
      ['a webhook URL with a password only', { ...webhook, webhookUrl: 'https://:hunter2@hooks.example.com/gmail' }, 'carries a user name or password; remove it'],
    ])('rejects %s with 400', async (_case, delivery, message) => {
      const response = await start({ emailAddress: 'bad-delivery@example.com', delivery });

      expect(response.statusCode).toBe(400);
      expect(response.json()).toMatchObject({ code: 'INVALID_DELIVERY_OPTIONS' });
      expect(response.json<{ message: string }>().message).toContain(message);
    });

    it('never echoes or logs the password of a webhook URL', async () => {
      const response = await start({ emailAddress: 'webhook-password@example.com', delivery: { ...webhook, webhookUrl: 'https://ops:s3cret-pw@hooks.example.com/gmail' } });

      expect(response.statusCode).toBe(400);
      expect(response.body).not.toContain('s3cret-pw');
      expect(harness.logText()).not.toContain('s3cret-pw');
    });

    it.each([
      ['a secret', { target: 'log', webhookSecret: 'hunter2' }, 'body.delivery.webhookSecret is not a known field'],
      ['a misspelt option', { target: 'log', includeSpan: true }, 'body.delivery.includeSpan is not a known field'],
    ])('rejects %s among the delivery options with 400 naming it', async (_case, delivery, message) => {
      const response = await start({ emailAddress: 'unknown-delivery@example.com', delivery });

      expect(response.statusCode).toBe(400);
      expect(response.json()).toMatchObject({ code: 'INVALID_REQUEST' });
      expect(response.json<{ message: string }>().message).toContain(message);
      expect(response.body).not.toContain('hunter2');
    });

    it('rejects a string where an include option needs a boolean with 400', async () => {
      const response = await start({ emailAddress: 'include-string@example.com', delivery: { includeSpam: 'false' } });

      expect(response.statusCode).toBe(400);
      expect(response.json<{ message: string }>().message).toContain('body.delivery.includeSpam must be boolean');
    });

    it('passes the include options to the workflow', async () => {
      const delivery = { includeSpam: true, includeTrash: false, includeDrafts: true };

      const response = await start({ emailAddress: 'include-options@example.com', delivery });

      expect(response.statusCode).toBe(201);
      const input = await harness.env.client.workflow.getHandle(mailboxId('include-options@example.com')).query(inputQuery);
      expect(input.delivery).toEqual(delivery);
    });

    it('passes a valid workflow target to the workflow', async () => {
      const delivery = { target: 'workflow', workflowType: 'handleGmailEvent', workflowTaskQueue: 'gmail-handlers' };

      const response = await start({ emailAddress: 'workflow-target@example.com', delivery });

      expect(response.statusCode).toBe(201);
      const input = await harness.env.client.workflow.getHandle(mailboxId('workflow-target@example.com')).query(inputQuery);
      expect(input.delivery).toEqual(delivery);
    });

    it('passes a valid webhook target to the workflow', async () => {
      const response = await start({ emailAddress: 'webhook@example.com', delivery: { ...webhook, webhookUrl: 'http://127.0.0.1:9999/gmail' } });

      expect(response.statusCode).toBe(201);
      const input = await harness.env.client.workflow.getHandle(mailboxId('webhook@example.com')).query(inputQuery);
      expect(input.delivery).toEqual({ ...webhook, webhookUrl: 'http://127.0.0.1:9999/gmail' });
    });
  });

  describe('state, sync, resync and stop', () => {
    beforeAll(async () => {
      await start({ emailAddress: 'state@example.com' });
    });

    it('returns the state of a running mailbox', async () => {
      const response = await api.app.inject({ method: 'GET', url: '/v1/mailboxes/State@Example.com', headers: auth });

      expect(response.statusCode).toBe(200);
      expect(response.json()).toMatchObject({ emailAddress: 'state@example.com', status: 'watching', historyId: '100', counters: { notifications: 0 } });
    });

    it('rejects an unknown mailbox with 404 naming it', async () => {
      const response = await api.app.inject({ method: 'GET', url: '/v1/mailboxes/nobody@example.com', headers: auth });

      expect(response.statusCode).toBe(404);
      expect(response.json()).toMatchObject({ code: 'MAILBOX_NOT_FOUND' });
      expect(response.json<{ message: string }>().message).toContain('nobody@example.com');
    });

    it('returns 503 naming the failing workflow task', async () => {
      const emailAddress = `${FAILING_TASK_PREFIX}state@example.com`;
      await harness.env.client.workflow.start('mailboxWorkflow', {
        taskQueue: harness.taskQueue,
        workflowId: mailboxId(emailAddress),
        args: [{ emailAddress, watch: { topicName: TOPIC_NAME }, credential: { provider: 'sandbox' } }],
      });
      // Until Temporal marks the task as failed, a query waits for a worker and passes the read deadline, so ask with a short one.
      const impatient = await harness.startApi({ temporalDeadlines: { readMs: 1000 } });
      const get = () => impatient.app.inject({ method: 'GET', url: `/v1/mailboxes/${emailAddress}`, headers: auth });
      let response = await get();
      for (let attempt = 0; attempt < 30 && response.json<{ code: string }>().code !== 'MAILBOX_TASK_FAILING'; attempt += 1) {
        response = await get();
      }
      await impatient.app.close();

      expect(response.statusCode).toBe(503);
      expect(response.json()).toMatchObject({ code: 'MAILBOX_TASK_FAILING' });
      expect(response.json<{ message: string }>().message).toContain(`gmail-mailbox/${emailAddress}`);
    });

    it('rejects an address in the path that is not an address with 400', async () => {
      const response = await api.app.inject({ method: 'GET', url: '/v1/mailboxes/not-an-address', headers: auth });

      expect(response.statusCode).toBe(400);
      expect(response.json()).toMatchObject({ code: 'INVALID_EMAIL_ADDRESS' });
    });

    it('accepts a path address longer than 100 characters', async () => {
      const emailAddress = `${'l'.repeat(64)}@${'d'.repeat(60)}.example.com`;

      const response = await api.app.inject({ method: 'GET', url: `/v1/mailboxes/${emailAddress}`, headers: auth });

      expect(response.statusCode).toBe(404);
      expect(response.json()).toMatchObject({ code: 'MAILBOX_NOT_FOUND' });
    });

    it('rejects a path local part over 64 characters with 400', async () => {
      const response = await api.app.inject({ method: 'GET', url: `/v1/mailboxes/${'a'.repeat(65)}@example.com`, headers: auth });

      expect(response.statusCode).toBe(400);
      expect(response.json()).toMatchObject({ code: 'INVALID_EMAIL_ADDRESS' });
    });

    it('rejects an overlong path parameter with 414 from the catalogue', async () => {
      const response = await api.app.inject({ method: 'GET', url: `/v1/mailboxes/${'a'.repeat(800)}@example.com`, headers: auth });

      expect(response.statusCode).toBe(414);
      expect(response.json()).toMatchObject({ code: 'URL_PARAMETER_TOO_LONG' });
      const line = harness.logs.find((entry) => entry.reqId === response.headers['x-request-id'] && entry.code === 'URL_PARAMETER_TOO_LONG');
      expect(line?.level).toBe(30);
      const metric = await api.metrics.registry.getSingleMetric('gmail_sync_http_requests_total')?.get();
      expect(metric?.values.some((entry) => entry.labels.status === '414')).toBe(true);
    });

    it('rejects bad percent-encoding in the path with 400 from the catalogue', async () => {
      const response = await api.app.inject({ method: 'GET', url: '/v1/mailboxes/%E0%A4%A', headers: auth });

      expect(response.statusCode).toBe(400);
      expect(response.json()).toMatchObject({ code: 'INVALID_URL' });
    });

    it('syncs now', async () => {
      const response = await api.app.inject({ method: 'POST', url: '/v1/mailboxes/state@example.com/sync', headers: auth });

      expect(response.statusCode).toBe(200);
      expect(response.json()).toEqual({ historyId: '100', counts: { messagesAdded: 0 } });
    });

    it('resyncs from a historyId', async () => {
      const response = await api.app.inject({
        method: 'POST',
        url: '/v1/mailboxes/state@example.com/resync',
        headers: auth,
        payload: { startHistoryId: '18446744073709551615' },
      });

      expect(response.statusCode).toBe(200);
      expect(response.json()).toMatchObject({ historyId: '18446744073709551615' });
    });

    it('resyncs fully without a body', async () => {
      const response = await api.app.inject({ method: 'POST', url: '/v1/mailboxes/state@example.com/resync', headers: auth });

      expect(response.statusCode).toBe(200);
    });

    it('rejects a resync the workflow rejects with 400 and its reason', async () => {
      const response = await api.app.inject({
        method: 'POST',
        url: '/v1/mailboxes/state@example.com/resync',
        headers: auth,
        payload: { startHistoryId: '0' },
      });

      expect(response.statusCode).toBe(400);
      expect(response.json()).toMatchObject({ code: 'MAILBOX_REQUEST_REJECTED' });
      expect(response.json<{ message: string }>().message).toContain('startHistoryId 0');
    });

    it('rejects a resync with a historyId that is not a number with 400', async () => {
      const response = await api.app.inject({
        method: 'POST',
        url: '/v1/mailboxes/state@example.com/resync',
        headers: auth,
        payload: { startHistoryId: '12abc' },
      });

      expect(response.statusCode).toBe(400);
      expect(response.json()).toMatchObject({ code: 'INVALID_REQUEST' });
    });

    it('rejects a numeric startHistoryId with 400', async () => {
      const response = await api.app.inject({
        method: 'POST',
        url: '/v1/mailboxes/state@example.com/resync',
        headers: { ...auth, 'content-type': 'application/json' },
        payload: '{"startHistoryId":9007199254740993}',
      });

      expect(response.statusCode).toBe(400);
      expect(response.json()).toMatchObject({ code: 'INVALID_REQUEST' });
      expect(response.json<{ message: string }>().message).toContain('send the historyId as a decimal string');
    });

    it.each([
      ['leading zeros', '000123', 'body.startHistoryId has leading zeros; send "123" instead'],
      ['a value above 2^64-1', '18446744073709551616', 'body.startHistoryId is above 18446744073709551615'],
      ['21 digits', '100000000000000000000', 'body.startHistoryId'],
    ])('rejects a startHistoryId with %s with 400', async (_name, startHistoryId, problem) => {
      const response = await api.app.inject({
        method: 'POST',
        url: '/v1/mailboxes/state@example.com/resync',
        headers: auth,
        payload: { startHistoryId },
      });

      expect(response.statusCode).toBe(400);
      expect(response.json()).toMatchObject({ code: 'INVALID_REQUEST' });
      expect(response.json<{ message: string }>().message).toContain(problem);
    });

    it('rejects an unknown resync field with 400', async () => {
      const response = await api.app.inject({
        method: 'POST',
        url: '/v1/mailboxes/state@example.com/resync',
        headers: auth,
        payload: { startHistoryID: '5' },
      });

      expect(response.statusCode).toBe(400);
      expect(response.json<{ message: string }>().message).toContain('body.startHistoryID is not a known field');
    });

    it('stops, returns the final state, and keeps returning it', async () => {
      const stopped = await api.app.inject({ method: 'DELETE', url: '/v1/mailboxes/state@example.com', headers: auth });
      const again = await api.app.inject({ method: 'DELETE', url: '/v1/mailboxes/state@example.com', headers: auth });
      const state = await api.app.inject({ method: 'GET', url: '/v1/mailboxes/state@example.com', headers: auth });

      expect(stopped.statusCode).toBe(200);
      expect(stopped.json()).toMatchObject({ status: 'stopped', counters: { syncs: 1 } });
      expect(again.statusCode).toBe(200);
      expect(state.statusCode).toBe(200);
      expect(state.json()).toMatchObject({ status: 'stopped' });
    });

    it('rejects a sync of a stopped mailbox with 409', async () => {
      const response = await api.app.inject({ method: 'POST', url: '/v1/mailboxes/state@example.com/sync', headers: auth });

      expect(response.statusCode).toBe(409);
      expect(response.json()).toMatchObject({ code: 'MAILBOX_STOPPED' });
    });

    it('starts, reads and lists an address with an apostrophe', async () => {
      const emailAddress = "o'brien@example.com";

      const started = await start({ emailAddress });
      const state = await api.app.inject({ method: 'GET', url: `/v1/mailboxes/${encodeURIComponent(emailAddress)}`, headers: auth });
      let listed: string[] = [];
      // Visibility is eventually consistent, so poll up to 50 times until the mailbox shows.
      for (let attempt = 0; attempt < 50 && listed.length === 0; attempt++) {
        const response = await api.app.inject({ method: 'GET', url: `/v1/mailboxes?emailAddress=${encodeURIComponent(emailAddress)}`, headers: auth });
        expect(response.statusCode).toBe(200);
        listed = response.json<{ mailboxes: { emailAddress: string }[] }>().mailboxes.map((mailbox) => mailbox.emailAddress);
        if (listed.length === 0) {
          await new Promise((resolve) => setTimeout(resolve, 200));
        }
      }

      expect(started.statusCode).toBe(201);
      expect(state.statusCode).toBe(200);
      expect(listed).toEqual([emailAddress]);
    });

    it('rejects a stop of an unknown mailbox with 404', async () => {
      const response = await api.app.inject({ method: 'DELETE', url: '/v1/mailboxes/ghost@example.com', headers: auth });

      expect(response.statusCode).toBe(404);
      expect(response.json()).toMatchObject({ code: 'MAILBOX_NOT_FOUND' });
    });
  });

  describe('list', () => {
    it('pages through mailboxes from visibility', async () => {
      for (const emailAddress of ['list-1@example.com', 'list-2@example.com', 'list-3@example.com']) {
        await start({ emailAddress });
      }

      const seen = new Set<string>();
      let pageToken: string | null = null;
      let pages = 0;
      // Visibility is eventually consistent, so poll up to 50 times until all three show.
      for (let attempt = 0; attempt < 50 && seen.size < 3; attempt++) {
        seen.clear();
        pages = 0;
        do {
          const query: string = `pageSize=2&status=watching${pageToken ? `&pageToken=${pageToken}` : ''}`;
          const response = await api.app.inject({ method: 'GET', url: `/v1/mailboxes?${query}`, headers: auth });
          expect(response.statusCode).toBe(200);
          const page = response.json<{ mailboxes: { emailAddress: string }[]; nextPageToken: string | null }>();
          page.mailboxes.filter((m) => m.emailAddress.startsWith('list-')).forEach((m) => seen.add(m.emailAddress));
          pageToken = page.nextPageToken;
          pages += 1;
        } while (pageToken !== null);
        if (seen.size < 3) {
          await new Promise((resolve) => setTimeout(resolve, 200));
        }
      }

      expect([...seen].sort()).toEqual(['list-1@example.com', 'list-2@example.com', 'list-3@example.com']);
      expect(pages).toBeGreaterThan(1);
    });

    it('filters by address', async () => {
      const response = await api.app.inject({ method: 'GET', url: '/v1/mailboxes?emailAddress=list-2@example.com', headers: auth });

      expect(response.statusCode).toBe(200);
      const page = response.json<{ mailboxes: { emailAddress: string; executionStatus: string }[] }>();
      expect(page.mailboxes.map((m) => m.emailAddress)).toEqual(['list-2@example.com']);
      expect(page.mailboxes[0].executionStatus).toBe('RUNNING');
    });

    it.each([
      ['a misspelt filter', 'stauts=watching'],
      ['an unknown parameter', 'limit=5'],
    ])('rejects %s with 400', async (_name, query) => {
      const response = await api.app.inject({ method: 'GET', url: `/v1/mailboxes?${query}`, headers: auth });

      expect(response.statusCode).toBe(400);
      expect(response.json()).toMatchObject({ code: 'INVALID_REQUEST' });
      expect(response.json<{ message: string }>().message).toContain(query.split('=')[0]);
    });

    it('rejects a page token it did not issue with 400', async () => {
      const response = await api.app.inject({ method: 'GET', url: '/v1/mailboxes?pageToken=%%%', headers: auth });

      expect(response.statusCode).toBe(400);
    });

    it.each([
      ['valid base64url', 'AAAA'],
      ['a forged tag', 'AAAA.AAAAAAAAAAAAAAAAAAAAAA'],
    ])('rejects a forged page token in %s promptly', async (_name, pageToken) => {
      const started = Date.now();

      const response = await api.app.inject({ method: 'GET', url: `/v1/mailboxes?pageToken=${pageToken}`, headers: auth });

      expect(response.statusCode).toBe(400);
      expect(response.json()).toMatchObject({ code: 'INVALID_REQUEST' });
      expect(response.json<{ message: string }>().message).toContain('pageToken');
      // Temporal's client retries a forged token for about 20 s, so a prompt answer shows it never reached Temporal.
      expect(Date.now() - started).toBeLessThan(2000);
    });
  });

  describe('operations routes', () => {
    it('serves the OpenAPI document with every route', async () => {
      const response = await api.app.inject({ method: 'GET', url: '/openapi.json' });

      expect(response.statusCode).toBe(200);
      const document = response.json<{ openapi: string; paths: Record<string, unknown> }>();
      expect(document.openapi).toMatch(/^3\./);
      expect(Object.keys(document.paths).sort()).toEqual(
        [
          '/healthz',
          '/metrics',
          '/pubsub/push',
          '/readyz',
          '/v1/mailboxes',
          '/v1/mailboxes/{emailAddress}',
          '/v1/mailboxes/{emailAddress}/failures',
          '/v1/mailboxes/{emailAddress}/reauthorize',
          '/v1/mailboxes/{emailAddress}/replay-failures',
          '/v1/mailboxes/{emailAddress}/resync',
          '/v1/mailboxes/{emailAddress}/sync',
          '/v1/oauth/callback',
          '/v1/oauth/links',
          '/v1/oauth/start',
        ].sort(),
      );
    });

    it('serves the docs UI', async () => {
      const response = await api.app.inject({ method: 'GET', url: '/docs/' });

      expect(response.statusCode).toBe(200);
      expect(response.headers['content-type']).toContain('text/html');
    });

    it('serves /healthz and /readyz over a socket', async () => {
      const address = await api.app.listen({ port: 0, host: '127.0.0.1' });

      const health = await fetch(`${address}/healthz`);
      const ready = await fetch(`${address}/readyz`);

      expect(health.status).toBe(200);
      expect(ready.status).toBe(200);
      expect(await ready.json()).toEqual({ status: 'ready', temporal: 'reachable', draining: false });
    });

    it('rejects an unknown route with 404 from the catalogue', async () => {
      const response = await api.app.inject({ method: 'GET', url: '/v2/nothing' });

      expect(response.statusCode).toBe(404);
      expect(response.json()).toMatchObject({ code: 'ROUTE_NOT_FOUND' });
    });
  });
});
