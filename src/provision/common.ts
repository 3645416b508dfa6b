import { spawn, spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** Root of the project checkout. */
export const PROJECT_ROOT = path.resolve(__dirname, '..', '..');

/**
 * Folder for tools that are built or fetched once per machine (Temporal CLI,
 * test server, Pub/Sub fake). It lives outside the checkout so a fresh clone
 * reuses it.
 */
export function cacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.GMAIL_SYNC_CACHE_DIR) {
    return path.resolve(env.GMAIL_SYNC_CACHE_DIR);
  }
  const base = env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(base, 'gmail-sync');
}

export function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Finds a command on PATH, or returns undefined. */
export function findOnPath(command: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  for (const dir of (env.PATH ?? '').split(path.delimiter)) {
    if (dir && isExecutable(path.join(dir, command))) {
      return path.join(dir, command);
    }
  }
  return undefined;
}

export function log(message: string): void {
  process.stderr.write(`[provision] ${message}\n`);
}

/** Runs a command with its output shown, and rejects with its exit code when it fails. */
export function run(command: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'inherit', 'inherit'], ...options });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (code === 0) {
        resolve();
      } else {
        reject(new Error(`${command} ${args.join(' ')} failed with ${signal ? `signal ${signal}` : `exit code ${code}`}`));
      }
    });
  });
}

/** Returns true when `command --version` (or the given args) runs. */
export function commandWorks(command: string, args = ['version']): boolean {
  return spawnSync(command, args, { stdio: 'ignore' }).status === 0;
}

/** Runs a step, logging what it does and how long it took. */
export async function timed<T>(what: string, step: () => Promise<T>): Promise<T> {
  const started = Date.now();
  log(`${what}...`);
  const result = await step();
  log(`${what}: done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return result;
}
