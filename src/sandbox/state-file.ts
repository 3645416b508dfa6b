import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

import type { IssuedRefreshToken, OAuthClientRegistration } from './auth/consent';
import type { ServiceAccountRecord } from './auth/service-accounts';
import type { AccessTokenGrant } from './auth/token-store';
import type { MailboxData } from './mailbox-data';

/**
 * State that `npm run dev` keeps across restarts, so that a restarted session
 * and the persisted Temporal workflows agree on historyIds and the product
 * keeps trusting the same signing key.
 */
export interface SandboxState {
  version: 1;
  signingKeyPem: string;
  /** Sandbox clock minus wall time, in milliseconds. */
  clockOffsetMs: number;
  mailboxes: MailboxData[];
  accessTokens: [string, AccessTokenGrant][];
  topicsWithoutPublishRights: string[];
  /** Absent in files written before the consent flow existed. */
  oauthClients?: OAuthClientRegistration[];
  issuedRefreshTokens?: [string, IssuedRefreshToken][];
  serviceAccounts?: ServiceAccountRecord[];
}

/** Reads the state file; returns undefined when it does not exist yet. */
export function readState(path: string): SandboxState | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      return undefined;
    }
    throw error;
  }
  const state = JSON.parse(text) as SandboxState;
  if (state.version !== 1) {
    throw new Error(`Unsupported sandbox state file version ${String(state.version)} in ${path}; delete the file to start afresh.`);
  }
  return state;
}

/** Writes the state file atomically (temporary file, then rename), so a crash never leaves half a file. */
export function writeState(path: string, state: SandboxState): void {
  mkdirSync(dirname(path), { recursive: true });
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, JSON.stringify(state), { mode: 0o600 });
  renameSync(temporary, path);
}
