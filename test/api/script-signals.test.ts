/**
 * Runs the `api` and `dev` npm scripts as npm does (`sh -c`, in a process
 * group of their own, as a terminal's foreground job) and presses Ctrl-C.
 *
 * The tsx CLI relays a signal to its child and SIGKILLs the child when the
 * child does not acknowledge it within about 60 ms (tsx 4.23), so a stall at
 * Ctrl-C ended the process without its shutdown. Under `npm run dev` that
 * also left the detached Temporal dev server running, as did a second Ctrl-C
 * during the drain. `node --import tsx` has no relay.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import type { TestWorkflowEnvironment } from '@temporalio/testing';

import { freePort } from '../helpers/free-port';
import { createDevServerEnv } from '../helpers/temporal';

const ROOT = path.resolve(__dirname, '../..');
const SCRIPTS = (JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;

const API_SETTINGS = {
  GMAIL_SYNC_API_TOKEN: 'script-signals-token-0123456789',
  GMAIL_SYNC_PUSH_AUDIENCE: 'https://sync.example.com/pubsub/push',
  GMAIL_SYNC_PUSH_SERVICE_ACCOUNT: 'push@my-project.iam.gserviceaccount.com',
  GMAIL_SYNC_PAYLOAD_ENCRYPTION: 'off',
};

type LogLine = { msg?: string; pid?: number };

/** An npm script started through `sh -c` in its own process group, with its pino log lines collected. */
type ScriptRun = { child: ChildProcess; logs: LogLine[]; stderr: () => string };

function startScript(name: string, env: Record<string, string>): ScriptRun {
  const child = spawn('sh', ['-c', SCRIPTS[name]], {
    cwd: ROOT,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
  });
  const logs: LogLine[] = [];
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    for (const text of chunk.split('\n').filter((part) => part.startsWith('{"level"'))) {
      logs.push(JSON.parse(text) as LogLine);
    }
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  return { child, logs, stderr: () => stderr };
}

/** Resolves with the first log line whose `msg` is `message`. */
function waitForLog(run: ScriptRun, message: string, timeoutMs: number): Promise<LogLine> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const poll = (): void => {
      const line = run.logs.find((entry) => entry.msg === message);
      if (line) {
        resolve(line);
      } else if (Date.now() > deadline) {
        const seen = JSON.stringify(run.logs.map((entry) => entry.msg));
        reject(new Error(`no "${message}" log line within ${timeoutMs} ms; logged: ${seen}; stderr: ${run.stderr().slice(-2000)}`));
      } else {
        setTimeout(poll, 50);
      }
    };
    poll();
  });
}

/** Sends a signal to a process, or with a negative id to a process group, and returns false when none exists. */
function signal(pid: number, name: NodeJS.Signals | 0): boolean {
  try {
    process.kill(pid, name);
    return true;
  } catch {
    return false;
  }
}

async function waitForExit(pid: number, timeoutMs: number): Promise<boolean> {
  for (let waited = 0; waited < timeoutMs; waited += 100) {
    if (!signal(pid, 0)) {
      return true;
    }
    await sleep(100);
  }
  return false;
}

function isListening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Ids of the processes whose command line contains every one of `parts`, for cleaning up after a failed run. */
function processesWith(parts: string[]): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((entry) => {
      try {
        const command = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').join(' ');
        return parts.every((part) => command.includes(part));
      } catch {
        return false;
      }
    })
    .map(Number);
}

describe('api npm script', () => {
  let env: TestWorkflowEnvironment;
  let run: ScriptRun | undefined;
  let apiPid: number | undefined;

  beforeAll(async () => {
    env = await createDevServerEnv();
  });

  afterAll(async () => {
    if (apiPid !== undefined) {
      signal(apiPid, 'SIGKILL');
    }
    if (run?.child.pid !== undefined) {
      signal(-run.child.pid, 'SIGKILL');
    }
    await env?.teardown();
  });

  it('shuts down on Ctrl-C during a stall', async () => {
    const port = await freePort();
    run = startScript('api', { ...API_SETTINGS, TEMPORAL_ADDRESS: env.address, GMAIL_SYNC_API_PORT: String(port) });
    apiPid = (await waitForLog(run, 'API listening', 45_000)).pid!;

    // Ctrl-C reaches the whole process group while the API process is stopped for 300 ms.
    signal(apiPid, 'SIGSTOP');
    signal(-run.child.pid!, 'SIGINT');
    await sleep(300);
    signal(apiPid, 'SIGCONT');

    await waitForLog(run, 'API stopped', 15_000);
    expect(await waitForExit(apiPid, 10_000)).toBe(true);
  });
});

describe('dev npm script', () => {
  let run: ScriptRun | undefined;
  let devPid: number | undefined;
  let temporalPort: number;
  let dataDir: string;

  beforeAll(() => {
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'gmail-sync-dev-signals-'));
  });

  afterAll(() => {
    if (devPid !== undefined) {
      signal(devPid, 'SIGKILL');
    }
    if (run?.child.pid !== undefined) {
      signal(-run.child.pid, 'SIGKILL');
    }
    // A dev server that outlived a failed run is found by its port argument and data folder.
    for (const pid of processesWith(['start-dev', `--port ${temporalPort}`, dataDir])) {
      signal(pid, 'SIGKILL');
    }
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('stops the dev server after two Ctrl-Cs', async () => {
    temporalPort = await freePort();
    run = startScript('dev', {
      TEMPORAL_ADDRESS: `127.0.0.1:${temporalPort}`,
      TEMPORAL_UI_PORT: String(await freePort()),
      GMAIL_SYNC_API_PORT: String(await freePort()),
      GMAIL_SYNC_GMAIL_SANDBOX_URL: `http://127.0.0.1:${await freePort()}`,
      GMAIL_SYNC_DATA_DIR: dataDir,
    });
    devPid = (await waitForLog(run, 'gmail-sync dev is running; press Ctrl-C to stop', 120_000)).pid!;
    expect(await isListening(temporalPort)).toBe(true);

    // The second Ctrl-C arrives once the worker has drained and the API is closing.
    signal(-run.child.pid!, 'SIGINT');
    await waitForLog(run, 'API draining', 60_000);
    signal(devPid, 'SIGINT');

    await waitForLog(run, 'gmail-sync dev stopped', 30_000);
    expect(await waitForExit(devPid, 10_000)).toBe(true);
    expect(await isListening(temporalPort)).toBe(false);
  }, 180_000);
});
