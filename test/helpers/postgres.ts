import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

import { freePort } from './free-port';

export interface TestPostgres {
  connectionString: string;
  stop(): Promise<void>;
}

function findPostgresBin(): string {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).sort((a, b) => Number(b) - Number(a)) : [];
  for (const version of versions) {
    const bin = path.join(root, version, 'bin');
    if (existsSync(path.join(bin, 'initdb'))) {
      return bin;
    }
  }
  throw new Error('PostgreSQL server binaries were not found under /usr/lib/postgresql. Install them with `apt-get install postgresql`.');
}

/**
 * Starts a throwaway PostgreSQL cluster on a free loopback port with trust
 * authentication. PostgreSQL refuses to run as root, so as root it runs as
 * the `postgres` user that Debian's package creates.
 */
export async function startPostgres(): Promise<TestPostgres> {
  const bin = findPostgresBin();
  const asRoot = process.getuid?.() === 0;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gmail-sync-pg-'));
  chmodSync(dir, 0o777);
  const data = path.join(dir, 'data');
  const run = (command: string, args: string[]): string[] => (asRoot ? ['runuser', ['-u', 'postgres', '--', command, ...args]] : [command, args]).flat();

  const [initCommand, ...initArgs] = run(path.join(bin, 'initdb'), ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync']);
  execFileSync(initCommand, initArgs, { stdio: 'ignore' });

  const port = await freePort();
  const [serverCommand, ...serverArgs] = run(path.join(bin, 'postgres'), [
    '-D', data, '-p', String(port), '-k', dir, '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off',
  ]);
  const server = spawn(serverCommand, serverArgs, { stdio: 'ignore' });

  const deadline = Date.now() + 30_000;
  for (;;) {
    const ready = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (ready) {
      break;
    }
    if (Date.now() > deadline || server.exitCode !== null) {
      server.kill('SIGKILL');
      throw new Error(`PostgreSQL did not listen on 127.0.0.1:${port} within 30 s`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }

  return {
    connectionString: `postgresql://postgres@127.0.0.1:${port}/postgres`,
    stop: async () => {
      const exited = new Promise<void>((resolve) => server.once('exit', () => resolve()));
      // pg_ctl's fast mode ends open sessions; a signal to runuser would not reach the server.
      const [stopCommand, ...stopArgs] = run(path.join(bin, 'pg_ctl'), ['-D', data, '-m', 'fast', '-w', 'stop']);
      execFileSync(stopCommand, stopArgs, { stdio: 'ignore' });
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
