import { parseBoolean, parseHostPort, parseInteger, parseOneOf, parsePort, parseString } from './parsers';
import { CREDENTIAL_PROVIDERS, parseApiToken, parseEmailAddress, parseHttpUrl, parseSubscriptionName, parseTopicName } from '../api/settings-parsers';
import { DELIVERY_TARGETS, parseHeaderNames } from '../delivery/delivery-options';
import { PAYLOAD_ENCRYPTION_MODES, parseOrigins, parsePayloadKeyring } from '../codec/codec-settings';
import { GMAIL_SCOPE_NAMES, TOKEN_STORE_KINDS, parsePostgresUrl } from '../credentials/credential-settings';
import { parseKeyringSetting } from '../credentials/token-cipher';

/**
 * One environment setting: its variable, default, unit and meaning. This table
 * is the single place where settings are documented; `.env.example` is
 * generated from it by `npm run env-example`, and a test keeps the two equal.
 */
export interface Setting<T> {
  name: string;
  description: string;
  /** Raw default, parsed like a set value; undefined means the setting is optional. */
  defaultValue?: string;
  unit?: string;
  /** Secret values are never printed, not even in a validation error. */
  secret?: boolean;
  parse: (raw: string) => T;
}

function setting<T>(spec: Setting<T>): Setting<T> {
  return spec;
}

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export const settings = {
  temporalAddress: setting({
    name: 'TEMPORAL_ADDRESS',
    description:
      'Temporal frontend as host:port. Under `npm run dev` a dev server is started here unless one already listens.',
    defaultValue: '127.0.0.1:7233',
    parse: parseHostPort,
  }),
  temporalNamespace: setting({
    name: 'TEMPORAL_NAMESPACE',
    description: 'Temporal namespace of the mailbox workflows.',
    defaultValue: 'default',
    parse: parseString,
  }),
  temporalApiKey: setting({
    name: 'TEMPORAL_API_KEY',
    description: 'API key for Temporal Cloud; setting it turns TLS on. The other TEMPORAL_TLS_* variables of Temporal\'s client environment configuration are read too.',
    secret: true,
    parse: parseString,
  }),
  temporalTls: setting({
    name: 'TEMPORAL_TLS',
    description: 'Connect to Temporal over TLS (true or false).',
    parse: parseBoolean,
  }),
  taskQueue: setting({
    name: 'GMAIL_SYNC_TASK_QUEUE',
    description: 'Task queue that the worker polls and that workflows are started on.',
    defaultValue: 'gmail-sync',
    parse: parseString,
  }),
  dataDir: setting({
    name: 'GMAIL_SYNC_DATA_DIR',
    description: 'Folder for local state under `npm run dev`: the dev server\'s SQLite file and the generated API token.',
    defaultValue: '.data',
    parse: parseString,
  }),
  temporalUiPort: setting({
    name: 'TEMPORAL_UI_PORT',
    description: 'Port of the Temporal UI when `npm run dev` starts the dev server.',
    defaultValue: '8233',
    parse: parsePort,
  }),
  logLevel: setting({
    name: 'GMAIL_SYNC_LOG_LEVEL',
    description: `Log level, one of ${LOG_LEVELS.join(', ')}.`,
    defaultValue: 'info',
    parse: parseOneOf(LOG_LEVELS),
  }),
  shutdownGraceSeconds: setting({
    name: 'GMAIL_SYNC_SHUTDOWN_GRACE_SECONDS',
    description: 'How long the worker lets running activities finish after SIGINT or SIGTERM before it cancels them.',
    defaultValue: '30',
    unit: 'seconds',
    parse: parseInteger(0, 3600),
  }),

  // API server, push endpoint and pull subscriber.
  apiHost: setting({
    name: 'GMAIL_SYNC_API_HOST',
    description: 'Interface the API listens on; use 0.0.0.0 in a container.',
    defaultValue: '127.0.0.1',
    parse: parseString,
  }),
  apiPort: setting({
    name: 'GMAIL_SYNC_API_PORT',
    description: 'Port of the HTTP API and the Pub/Sub push endpoint.',
    defaultValue: '3000',
    parse: parsePort,
  }),
  apiToken: setting({
    name: 'GMAIL_SYNC_API_TOKEN',
    description:
      'Bearer token of the management routes (/v1/...), at least 16 characters. Required by `npm run api`; `npm run dev` generates one into the data folder when unset.',
    secret: true,
    parse: parseApiToken,
  }),
  apiBodyLimitBytes: setting({
    name: 'GMAIL_SYNC_API_BODY_LIMIT_BYTES',
    description: 'Largest request body the API accepts, pushes included; larger bodies get 413. A Gmail push is under 1 KiB.',
    defaultValue: '65536',
    unit: 'bytes',
    parse: parseInteger(1024, 10 * 1024 * 1024),
  }),
  pushAudience: setting({
    name: 'GMAIL_SYNC_PUSH_AUDIENCE',
    description:
      'Audience that the push subscription puts in its OIDC token, usually the push endpoint URL. Required: the API does not start without it.',
    parse: parseString,
  }),
  pushServiceAccount: setting({
    name: 'GMAIL_SYNC_PUSH_SERVICE_ACCOUNT',
    description:
      'Service account email that the push subscription signs its OIDC tokens as. Required: the API does not start without it.',
    parse: parseEmailAddress,
  }),
  pushCertsUrl: setting({
    name: 'GMAIL_SYNC_PUSH_CERTS_URL',
    description:
      "URL of the PEM certificates that push tokens are verified against. `npm run dev` points it at the Gmail sandbox's certificates.",
    defaultValue: 'https://www.googleapis.com/oauth2/v1/certs',
    parse: parseHttpUrl,
  }),
  pushCertsCacheSeconds: setting({
    name: 'GMAIL_SYNC_PUSH_CERTS_CACHE_SECONDS',
    description: 'How long fetched push certificates are reused; a token signed by an unknown key refetches them sooner.',
    defaultValue: '3600',
    unit: 'seconds',
    parse: parseInteger(1, 86400),
  }),
  signalTimeoutMs: setting({
    name: 'GMAIL_SYNC_SIGNAL_TIMEOUT_MS',
    description:
      'Deadline of one notify signal to Temporal; past it a push gets 503 and a pulled message is nacked, so Pub/Sub redelivers.',
    defaultValue: '5000',
    unit: 'milliseconds',
    parse: parseInteger(100, 60000),
  }),
  pullSubscription: setting({
    name: 'GMAIL_SYNC_PULL_SUBSCRIPTION',
    description:
      'Pub/Sub subscription, projects/{project}/subscriptions/{subscription}, that the API process also pulls from (StreamingPull); unset means push only.',
    parse: parseSubscriptionName,
  }),
  pullMaxMessages: setting({
    name: 'GMAIL_SYNC_PULL_MAX_MESSAGES',
    description: 'Flow control of the pull subscriber: most messages held unacknowledged at once.',
    defaultValue: '100',
    unit: 'messages',
    parse: parseInteger(1, 10000),
  }),
  watchTopic: setting({
    name: 'GMAIL_SYNC_WATCH_TOPIC',
    description:
      'Pub/Sub topic, projects/{project}/topics/{topic}, that started mailboxes watch when the start request names none; unset means every start request must name one.',
    parse: parseTopicName,
  }),
  credentialProvider: setting({
    name: 'GMAIL_SYNC_CREDENTIAL_PROVIDER',
    description: `Credential provider of started mailboxes when the start request names none, one of ${CREDENTIAL_PROVIDERS.join(', ')}: sandbox is the local Gmail sandbox, oauth a refresh token from the consent flow at /v1/oauth/start, workspace a service account with domain-wide delegation.`,
    defaultValue: 'sandbox',
    parse: parseOneOf(CREDENTIAL_PROVIDERS),
  }),

  // Google credentials (oauth and workspace providers) and the endpoints they talk to.
  gmailScope: setting({
    name: 'GMAIL_SYNC_GMAIL_SCOPE',
    description: `OAuth scope that oauth and workspace credentials request, one of ${GMAIL_SCOPE_NAMES.join(', ')} (gmail.readonly or gmail.modify).`,
    defaultValue: 'readonly',
    parse: parseOneOf(GMAIL_SCOPE_NAMES),
  }),
  gmailApiUrl: setting({
    name: 'GMAIL_SYNC_GMAIL_API_URL',
    description: 'Root URL of the Gmail API for oauth and workspace credentials. `npm run dev` points it at the Gmail sandbox unless set.',
    defaultValue: 'https://gmail.googleapis.com/',
    parse: parseHttpUrl,
  }),
  googleAuthUrl: setting({
    name: 'GMAIL_SYNC_GOOGLE_AUTH_URL',
    description: "Google's OAuth authorization endpoint that /v1/oauth/start redirects browsers to. `npm run dev` points it at the Gmail sandbox unless set.",
    defaultValue: 'https://accounts.google.com/o/oauth2/v2/auth',
    parse: parseHttpUrl,
  }),
  googleTokenUrl: setting({
    name: 'GMAIL_SYNC_GOOGLE_TOKEN_URL',
    description: "Google's OAuth token endpoint, for code exchange, token refresh and service account assertions. `npm run dev` points it at the Gmail sandbox unless set.",
    defaultValue: 'https://oauth2.googleapis.com/token',
    parse: parseHttpUrl,
  }),
  workspaceKeyFile: setting({
    name: 'GMAIL_SYNC_WORKSPACE_KEY_FILE',
    description:
      'JSON key file of the service account that workspace credentials impersonate each mailbox with (domain-wide delegation). Unset means Application Default Credentials, which must be a service account key as well.',
    parse: parseString,
  }),
  oauthClientId: setting({
    name: 'GMAIL_SYNC_OAUTH_CLIENT_ID',
    description: 'OAuth 2.0 client id (type Web application) of the consent flow and of oauth credentials. Required by API and worker when oauth credentials are used.',
    parse: parseString,
  }),
  oauthClientSecret: setting({
    name: 'GMAIL_SYNC_OAUTH_CLIENT_SECRET',
    description: 'Secret of the OAuth 2.0 client in GMAIL_SYNC_OAUTH_CLIENT_ID.',
    secret: true,
    parse: parseString,
  }),
  oauthRedirectUrl: setting({
    name: 'GMAIL_SYNC_OAUTH_REDIRECT_URL',
    description:
      "Public URL of the API's /v1/oauth/callback, registered as an authorized redirect URI of the OAuth client. `npm run dev` defaults it to the local API's.",
    parse: parseHttpUrl,
  }),
  oauthStateTtlSeconds: setting({
    name: 'GMAIL_SYNC_OAUTH_STATE_TTL_SECONDS',
    description: 'How long a consent started at /v1/oauth/start may take before its callback is rejected as expired.',
    defaultValue: '600',
    unit: 'seconds',
    parse: parseInteger(1, 86400),
  }),

  // Encrypted store of OAuth refresh tokens.
  tokenStore: setting({
    name: 'GMAIL_SYNC_TOKEN_STORE',
    description: `Where refresh tokens are kept, encrypted: sqlite (a file for one host running API and worker) or postgres (API and worker on separate hosts), one of ${TOKEN_STORE_KINDS.join(', ')}.`,
    defaultValue: 'sqlite',
    parse: parseOneOf(TOKEN_STORE_KINDS),
  }),
  tokenStorePath: setting({
    name: 'GMAIL_SYNC_TOKEN_STORE_PATH',
    description: 'SQLite file of the sqlite token store; unset means tokens.sqlite in GMAIL_SYNC_DATA_DIR.',
    parse: parseString,
  }),
  tokenStoreUrl: setting({
    name: 'GMAIL_SYNC_TOKEN_STORE_URL',
    description: 'PostgreSQL connection string of the postgres token store, postgres://user:password@host:port/database; the table is created when missing.',
    secret: true,
    parse: parsePostgresUrl,
  }),
  tokenKeys: setting({
    name: 'GMAIL_SYNC_TOKEN_KEYS',
    description:
      'Keyring that encrypts refresh tokens (AES-256-GCM) as id:base64key[,id:base64key], each key 32 bytes from `openssl rand -base64 32`. The first key encrypts and every key decrypts; the active key also signs the consent flow\'s state. Required with oauth credentials; `npm run dev` generates one into the data folder when unset.',
    secret: true,
    parse: parseKeyringSetting,
  }),
  workerMetricsAddress: setting({
    name: 'GMAIL_SYNC_WORKER_METRICS_ADDRESS',
    description:
      "host:port where the worker serves the Temporal SDK's Prometheus metrics at /metrics; unset means not served. The API serves its own at /metrics on its port.",
    parse: parseHostPort,
  }),

  // Mailbox workflow worker and its Gmail activities.
  gmailSandboxUrl: setting({
    name: 'GMAIL_SYNC_GMAIL_SANDBOX_URL',
    description: 'Base URL of the Gmail sandbox that mailboxes with a `sandbox` credential talk to (Gmail REST API and OAuth token endpoint).',
    defaultValue: 'http://127.0.0.1:3001',
    parse: parseHttpUrl,
  }),
  activityConcurrency: setting({
    name: 'GMAIL_SYNC_ACTIVITY_CONCURRENCY',
    description: 'Most regular activities (long syncs, full resyncs) one worker runs at once.',
    defaultValue: '20',
    unit: 'activities',
    parse: parseInteger(1, 1000),
  }),
  localActivityConcurrency: setting({
    name: 'GMAIL_SYNC_LOCAL_ACTIVITY_CONCURRENCY',
    description: 'Most local activities (watch, stop, one-page syncs) one worker runs at once.',
    defaultValue: '50',
    unit: 'activities',
    parse: parseInteger(1, 1000),
  }),
  activitiesPerSecond: setting({
    name: 'GMAIL_SYNC_ACTIVITIES_PER_SECOND',
    description:
      'Most regular activities started per second across all workers of the task queue, so that many mailboxes resyncing at once stay under the Gmail project quota. Local activities are bounded by their concurrency instead.',
    defaultValue: '20',
    unit: 'activities per second',
    parse: parseInteger(1, 10000),
  }),

  // Delivery of synced messages to each mailbox's target.
  deliveryTarget: setting({
    name: 'GMAIL_SYNC_DELIVERY_TARGET',
    description: `Delivery target of mailboxes whose delivery options name none, one of ${DELIVERY_TARGETS.join(', ')}. A webhook mailbox names its URL and signing secret in its own options; the worker reads the secret named NAME from GMAIL_SYNC_WEBHOOK_SECRET_NAME. A workflow mailbox names its workflowType and workflowTaskQueue.`,
    defaultValue: 'log',
    parse: parseOneOf(DELIVERY_TARGETS),
  }),
  deliveryConcurrency: setting({
    name: 'GMAIL_SYNC_DELIVERY_CONCURRENCY',
    description: 'Maximum number of messages that one sync fetches and delivers at once.',
    defaultValue: '8',
    unit: 'messages',
    parse: parseInteger(1, 100),
  }),
  deliveryTimeoutMs: setting({
    name: 'GMAIL_SYNC_DELIVERY_TIMEOUT_MS',
    description:
      'Time budget of all delivery attempts of one message; retryable failures are retried with backoff within it, and past it the message counts as failed, is handed to its deliveryWorkflow, and the sync moves on.',
    defaultValue: '10000',
    unit: 'milliseconds',
    parse: parseInteger(100, 300000),
  }),
  workflowTargetEncryption: setting({
    name: 'GMAIL_SYNC_WORKFLOW_TARGET_ENCRYPTION',
    description:
      "Encode the event in the input of the workflow target's workflows with gmail-sync's payload encryption (GMAIL_SYNC_PAYLOAD_KEYS), on or off. Off by default: the event is the user's data, so it uses Temporal's default converter and a worker in any SDK reads it; turn it on only when your workers decode with the same codec and keys.",
    defaultValue: 'off',
    parse: parseOneOf(PAYLOAD_ENCRYPTION_MODES),
  }),
  deliveryMetadataHeaders: setting({
    name: 'GMAIL_SYNC_DELIVERY_METADATA_HEADERS',
    description: 'Comma-separated message headers that messages.get fetches in format metadata, unless a mailbox names its own.',
    defaultValue: 'From,To,Subject,Date',
    parse: parseHeaderNames,
  }),

  // Retry schedule of the deliveryWorkflow that a message is handed to when a sync cannot deliver it.
  deliveryRetryInitialMs: setting({
    name: 'GMAIL_SYNC_DELIVERY_RETRY_INITIAL_MS',
    description: "Pause before a deliveryWorkflow's second attempt; later pauses grow by GMAIL_SYNC_DELIVERY_RETRY_BACKOFF.",
    defaultValue: '60000',
    unit: 'milliseconds',
    parse: parseInteger(1, 86400000),
  }),
  deliveryRetryBackoff: setting({
    name: 'GMAIL_SYNC_DELIVERY_RETRY_BACKOFF',
    description: "Factor by which a deliveryWorkflow's pause between attempts grows.",
    defaultValue: '2',
    unit: 'factor',
    parse: parseInteger(1, 10),
  }),
  deliveryRetryMaxIntervalMs: setting({
    name: 'GMAIL_SYNC_DELIVERY_RETRY_MAX_INTERVAL_MS',
    description: "Maximum pause between a deliveryWorkflow's attempts.",
    defaultValue: '3600000',
    unit: 'milliseconds',
    parse: parseInteger(1, 86400000),
  }),
  deliveryRetryMaxAttempts: setting({
    name: 'GMAIL_SYNC_DELIVERY_RETRY_MAX_ATTEMPTS',
    description: 'Attempts of a deliveryWorkflow, counting the first, before it fails and is listed by the failures route.',
    defaultValue: '30',
    unit: 'attempts',
    parse: parseInteger(1, 1000),
  }),
  deliveryRetryScheduleToCloseMs: setting({
    name: 'GMAIL_SYNC_DELIVERY_RETRY_SCHEDULE_TO_CLOSE_MS',
    description: "Time limit on all of a deliveryWorkflow's attempts together; past it the workflow fails even with attempts left.",
    defaultValue: '86400000',
    unit: 'milliseconds',
    parse: parseInteger(1000, 2592000000),
  }),
  deliveryRetryAttemptTimeoutMs: setting({
    name: 'GMAIL_SYNC_DELIVERY_RETRY_ATTEMPT_TIMEOUT_MS',
    description: "Time limit on one attempt of a deliveryWorkflow, which fetches the message and sends it within GMAIL_SYNC_DELIVERY_TIMEOUT_MS.",
    defaultValue: '600000',
    unit: 'milliseconds',
    parse: parseInteger(1000, 86400000),
  }),

  // Payload encryption of gmail-sync's own workflows, and the codec server that the Temporal UI decodes through.
  payloadEncryption: setting({
    name: 'GMAIL_SYNC_PAYLOAD_ENCRYPTION',
    description:
      "Encrypt the payloads of gmail-sync's workflows (inputs, results, signals, queries, memos, failure messages) with AES-256-GCM before they reach Temporal, on or off. `npm run dev` defaults it to off; the worker and the API do not start with it on and GMAIL_SYNC_PAYLOAD_KEYS unset.",
    defaultValue: 'on',
    parse: parseOneOf(PAYLOAD_ENCRYPTION_MODES),
  }),
  payloadKeys: setting({
    name: 'GMAIL_SYNC_PAYLOAD_KEYS',
    description:
      'Keyring of payload encryption as id:base64key[,id:base64key], each key 32 bytes from `openssl rand -base64 32`. The first key encrypts and every key decrypts, so rotate by putting a new key first and keep old ones while histories encrypted with them are retained. Worker and API need the same keyring.',
    secret: true,
    parse: parsePayloadKeyring,
  }),
  codecCorsOrigins: setting({
    name: 'GMAIL_SYNC_CODEC_CORS_ORIGINS',
    description:
      "Comma-separated browser origins, such as the Temporal UI's, allowed to call the codec server at /codec when payload encryption is on.",
    defaultValue: 'http://localhost:8233,http://127.0.0.1:8233',
    parse: parseOrigins,
  }),
};

export type Settings = typeof settings;
export type SettingKey = keyof Settings;
