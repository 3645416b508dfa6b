import { parseBoolean, parseHostPort, parseInteger, parseOneOf, parsePort, parseString } from './parsers';

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
};

export type Settings = typeof settings;
export type SettingKey = keyof Settings;
