import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';

import { Connection } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';

import { dataPath, type Config } from '../config';
import type { Logger } from '../logger';
import type { TemporalCli } from '../provision/temporal-cli';
import { devServerSearchAttributeArgs, registerSearchAttributes, SEARCH_ATTRIBUTES } from './search-attributes';

export interface DevServer {
  address: string;
  uiUrl: string | undefined;
  /** True when a server was already listening and was reused; stop() leaves it running. */
  reused: boolean;
  stop(): Promise<void>;
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

function splitAddress(address: string): { host: string; port: number } {
  const at = address.lastIndexOf(':');
  return { host: address.slice(0, at), port: Number(address.slice(at + 1)) };
}

function isListening(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: host.replace(/^\[|\]$/g, ''), port });
    socket.setTimeout(1000);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
  });
}

/**
 * Returns the URL of the API's codec server as the browser reaches it. An API
 * that listens on every interface is reached on loopback.
 */
export function codecEndpointUrl(config: Pick<Config, 'apiHost' | 'apiPort'>): string {
  const host = config.apiHost === '0.0.0.0' || config.apiHost === '::' ? '127.0.0.1' : config.apiHost.replace(/^\[|\]$/g, '');
  return `http://${host.includes(':') ? `[${host}]` : host}:${config.apiPort}/codec`;
}

/**
 * Builds the start-dev arguments that point the UI at the codec server, when payloads are encrypted.
 * The UI cannot send the API bearer token, so an operator signs in once at `<endpoint>/login`, which
 * sets a session cookie, and turns on "Include cross-origin credentials" in the UI's codec settings.
 * NOTE: that browser path is tested with HTTP requests only, not in a browser; the UI shows payloads
 * encoded until both steps are done. `temporal workflow show --codec-auth "Bearer <API token>"` always works.
 */
export function devServerCodecArgs(config: Pick<Config, 'apiHost' | 'apiPort' | 'payloadEncryption'>): string[] {
  return config.payloadEncryption === 'on' ? ['--ui-codec-endpoint', codecEndpointUrl(config)] : [];
}

/** Connects to the frontend, retrying until it responds or the deadline passes. */
async function waitForFrontend(address: string, timeoutMs: number, exited: () => boolean): Promise<Connection> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const connection = await Connection.connect({ address, connectTimeout: 2000 });
      await connection.healthService.check({});
      return connection;
    } catch (error) {
      if (exited()) {
        throw new Error(`temporal server start-dev exited before ${address} responded; see its output above.`);
      }
      if (Date.now() > deadline) {
        throw new Error(`Temporal dev server at ${address} did not respond within ${timeoutMs / 1000} s: ${String(error)}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
}

function stopChild(child: ChildProcess, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) {
    return Promise.resolve();
  }
  return new Promise((resolve) => {
    const killer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(killer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/**
 * Starts `temporal server start-dev` with a persistent SQLite file under the
 * data folder, the UI on TEMPORAL_UI_PORT (decoding through the API's codec
 * server when payloads are encrypted) and gmail-sync's search attributes,
 * or reuses a server that already listens at TEMPORAL_ADDRESS.
 */
export async function startDevServer(config: Config, cli: TemporalCli, logger: Logger): Promise<DevServer> {
  const address = config.temporalAddress;
  const { host, port } = splitAddress(address);

  // 1. Reuse a running server, registering the search attributes it may lack.
  if (await isListening(host, port)) {
    const connection = await waitForFrontend(address, 10_000, () => false);
    await registerSearchAttributes(connection, config.temporalNamespace);
    await connection.close();
    logger.info({ address }, 'reusing the Temporal server that already listens at TEMPORAL_ADDRESS');
    return { address, uiUrl: undefined, reused: true, stop: async () => {} };
  }
  if (!LOOPBACK_HOSTS.has(host)) {
    throw new Error(
      `No Temporal server responds at TEMPORAL_ADDRESS=${address}, and npm run dev starts one only on a loopback address. ` +
        'Start that server, or unset TEMPORAL_ADDRESS to use a local dev server on 127.0.0.1:7233.',
    );
  }

  mkdirSync(dataPath(config), { recursive: true });
  const dbFile = dataPath(config, 'temporal.sqlite');
  const uiUrl = `http://${host.includes(':') ? `[${host.replace(/^\[|\]$/g, '')}]` : host}:${config.temporalUiPort}`;

  // 2. Without a binary, let @temporalio/testing download the CLI and run it.
  if (cli.kind === 'download') {
    const env = await TestWorkflowEnvironment.createLocal({
      server: {
        executable: { type: 'cached-download' },
        ip: host,
        port,
        dbFilename: dbFile,
        namespace: config.temporalNamespace,
        ui: true,
        uiPort: config.temporalUiPort,
        searchAttributes: SEARCH_ATTRIBUTES,
        extraArgs: devServerCodecArgs(config),
      },
    });
    return { address, uiUrl, reused: false, stop: () => env.teardown() };
  }

  // 3. Run the CLI in its own process group, so Ctrl-C reaches gmail-sync first and the
  //    worker drains before the server stops.
  const args = [
    'server', 'start-dev',
    '--ip', host.replace(/^\[|\]$/g, ''),
    '--port', String(port),
    '--ui-port', String(config.temporalUiPort),
    '--db-filename', dbFile,
    '--namespace', config.temporalNamespace,
    '--log-level', 'error',
    ...devServerSearchAttributeArgs(),
    ...devServerCodecArgs(config),
  ];
  logger.info({ cli: cli.path, db: path.relative(process.cwd(), dbFile) }, 'starting the Temporal dev server');
  const child = spawn(cli.path, args, { stdio: ['ignore', 'inherit', 'inherit'], detached: true });
  const killOnExit = (): void => {
    child.kill('SIGKILL');
  };
  process.once('exit', killOnExit);

  const connection = await waitForFrontend(address, 60_000, () => child.exitCode !== null);
  await registerSearchAttributes(connection, config.temporalNamespace);
  await connection.close();

  return {
    address,
    uiUrl,
    reused: false,
    stop: async () => {
      process.off('exit', killOnExit);
      await stopChild(child, 10_000);
    },
  };
}
