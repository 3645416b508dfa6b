import pino, { type Logger } from 'pino';

import { REFRESH_TOKEN_PREFIX } from './auth/token-store';
import { SandboxClock } from './clock';
import { SandboxControls } from './controls';
import type { PushConfig } from './push/push-config';
import { SigningKey } from './push/signing-key';
import { SandboxCore } from './sandbox-core';
import { buildSandboxServer } from './server';
import { readState, writeState } from './state-file';

export interface SandboxOptions {
  /** TCP port; 0 (the default) picks a free one. */
  port?: number;
  /** Listen address; loopback by default, as nothing outside this machine should reach it. */
  host?: string;
  /** URL that push notifications are POSTed to; without it they are logged but not sent. */
  pushEndpoint?: string;
  /** `aud` of the push token; defaults to pushEndpoint. */
  pushAudience?: string;
  /** `email` of the push token. */
  pushServiceAccountEmail?: string;
  /** Further push settings (mode, format, backoff, dead-letter limit). */
  push?: Partial<PushConfig>;
  /** JSON file that keeps mailboxes, tokens and the signing key across restarts; in memory when absent. */
  stateFile?: string;
  logger?: Logger;
  /** Start with the sandbox clock frozen, so time moves only through advanceClock. */
  frozenClock?: boolean;
}

/** A running sandbox: its base URL, stop(), and the in-process control helpers. */
export class Sandbox extends SandboxControls {
  constructor(
    core: SandboxCore,
    /** Base URL without a trailing slash, e.g. http://127.0.0.1:3001. */
    readonly url: string,
    private readonly close: () => Promise<void>,
  ) {
    super(core);
  }

  /** Token endpoint for google-auth-library's `endpoints.oauth2TokenUrl`. */
  get tokenUrl(): string {
    return `${this.url}/token`;
  }

  /** Authorization endpoint, standing in for https://accounts.google.com/o/oauth2/v2/auth. */
  get authUrl(): string {
    return `${this.url}/o/oauth2/v2/auth`;
  }

  /** kid -> PEM certificate map, for `endpoints.oauth2FederatedSignonPemCertsUrl`. */
  get pemCertsUrl(): string {
    return `${this.url}/oauth2/v1/certs`;
  }

  /** JWK set, for `endpoints.oauth2FederatedSignonJwkCertsUrl`. */
  get jwksUrl(): string {
    return `${this.url}/oauth2/v3/certs`;
  }

  /** Refresh token that the token endpoint accepts for this mailbox. */
  refreshTokenFor(emailAddress: string): string {
    return `${REFRESH_TOKEN_PREFIX}${emailAddress}`;
  }

  /** Stops listening, cancels pending redeliveries and saves the state file. */
  stop(): Promise<void> {
    return this.close();
  }
}

/** Starts the Gmail sandbox: a local Gmail API, OAuth token endpoint and push publisher. */
export async function startSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  const logger = options.logger ?? pino({ level: 'silent' });

  // 1. Restore the state file, or start empty with a fresh signing key.
  const state = options.stateFile ? readState(options.stateFile) : undefined;
  const clock = new SandboxClock(state?.clockOffsetMs ?? 0);
  clock.setFrozen(options.frozenClock ?? false);
  const signingKey = state ? SigningKey.fromPem(state.signingKeyPem) : SigningKey.generate();
  const core = new SandboxCore(clock, signingKey, logger, {
    ...options.push,
    ...defined({ endpoint: options.pushEndpoint, audience: options.pushAudience, serviceAccountEmail: options.pushServiceAccountEmail }),
  });
  state?.mailboxes.forEach((data) => core.registry.add(data));
  state?.accessTokens.forEach(([token, grant]) => core.tokens.grants.set(token, grant));
  state?.oauthClients?.forEach((client) => core.tokens.consent.registerClient(client));
  state?.issuedRefreshTokens?.forEach(([token, grant]) => core.tokens.consent.refreshTokens.set(token, grant));
  state?.serviceAccounts?.forEach((account) => core.tokens.serviceAccounts.accounts.set(account.clientEmail, account));
  state?.topicsWithoutPublishRights.forEach((topic) => core.topicsWithoutPublishRights.add(topic));

  // 2. Save at most every 200 ms after a change, and once more on stop.
  const save = () => {
    if (options.stateFile) {
      writeState(options.stateFile, {
        version: 1,
        signingKeyPem: signingKey.toPem(),
        clockOffsetMs: clock.offset,
        mailboxes: core.registry.all().map((mailbox) => mailbox.data),
        accessTokens: [...core.tokens.grants.entries()],
        oauthClients: [...core.tokens.consent.clients.values()],
        issuedRefreshTokens: [...core.tokens.consent.refreshTokens.entries()],
        serviceAccounts: [...core.tokens.serviceAccounts.accounts.values()],
        topicsWithoutPublishRights: [...core.topicsWithoutPublishRights],
      });
    }
  };
  let saveTimer: NodeJS.Timeout | undefined;
  core.onChange(() => {
    saveTimer ??= setTimeout(() => {
      saveTimer = undefined;
      save();
    }, 200);
  });
  save();

  // 3. Listen, then hand out the running sandbox.
  const app = buildSandboxServer(core, new SandboxControls(core), logger);
  await app.listen({ port: options.port ?? 0, host: options.host ?? '127.0.0.1' });
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : options.port;
  const host = options.host ?? '127.0.0.1';
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  logger.info({ url, stateFile: options.stateFile }, 'Gmail sandbox listening');
  return new Sandbox(core, url, async () => {
    await app.close();
    await core.stop();
    clearTimeout(saveTimer);
    save();
    logger.info({ url }, 'Gmail sandbox stopped');
  });
}

function defined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, entry]) => entry !== undefined)) as Partial<T>;
}

export type { SandboxControls, MailboxSettings, ClockState } from './controls';
export type { NextConsent, OAuthClientRegistration } from './auth/consent';
export type { ServiceAccountKey } from './auth/service-accounts';
export type { CreateMailboxInput, MailboxSummary } from './mailbox-registry';
export type { DeliverMessageInput, DeliveredMessage, ModifyLabelsInput, ModifiedMessage } from './mailbox';
export type { GmailFault, GmailFaultInput } from './faults';
export type { NotificationFaultInput, NotificationFaultKind } from './push/notification-faults';
export type { NotificationRecord } from './push/notification';
export type { PushConfig } from './push/push-config';
export type { CounterSnapshot, NotificationCounters } from './counters';
export type { GmailMethod } from './quota';
export { QUOTA_UNITS } from './quota';
export { REFRESH_TOKEN_PREFIX } from './auth/token-store';
