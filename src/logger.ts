import type { Logger as SdkLogger } from '@temporalio/common';
import pino, { type Logger } from 'pino';

import type { Config } from './config';

/**
 * Creates the process logger: JSON lines on stdout, and on a terminal too, so
 * logs stay machine-readable. Authorization headers and tokens are redacted
 * wherever they appear in a logged object.
 */
export function createLogger(config: Pick<Config, 'logLevel'>, name = 'gmail-sync'): Logger {
  return pino({
    name,
    level: config.logLevel,
    redact: {
      paths: ['*.authorization', '*.headers.authorization', '*.token', '*.accessToken', '*.refreshToken', '*.apiKey'],
      censor: '[redacted]',
    },
  });
}

/** A Temporal SDK logger that drops every line, for bundling workflow code without webpack's progress output. */
export const silentSdkLogger: SdkLogger = {
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  log: () => undefined,
};

export type { Logger } from 'pino';
