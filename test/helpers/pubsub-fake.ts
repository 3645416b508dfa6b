import { spawn, type ChildProcess } from 'node:child_process';
import readline from 'node:readline';

import { provisionPubsubFake } from '../../src/provision/pubsub-fake';

export interface PubsubFake {
  /** host:port of the fake, as PUBSUB_EMULATOR_HOST takes it. */
  host: string;
  stop(): Promise<void>;
}

/**
 * Starts Google's in-memory Pub/Sub fake (pstest) on a free loopback port and
 * points @google-cloud/pubsub at it through PUBSUB_EMULATOR_HOST.
 */
export async function startPubsubFake(): Promise<PubsubFake> {
  const binary = await provisionPubsubFake();
  const child: ChildProcess = spawn(binary, ['--port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });

  const host = await new Promise<string>((resolve, reject) => {
    const lines = readline.createInterface({ input: child.stdout! });
    const timer = setTimeout(() => reject(new Error('the Pub/Sub fake did not print its address within 10 s')), 10_000);
    lines.once('line', (line) => {
      clearTimeout(timer);
      const match = /^listening on (\S+)$/.exec(line);
      if (match) {
        resolve(match[1]);
      } else {
        reject(new Error(`unexpected first line from the Pub/Sub fake: ${line}`));
      }
    });
    child.once('exit', (code) => reject(new Error(`the Pub/Sub fake exited with code ${code} before listening`)));
  });

  const previous = process.env.PUBSUB_EMULATOR_HOST;
  process.env.PUBSUB_EMULATOR_HOST = host;
  return {
    host,
    stop: () =>
      new Promise<void>((resolve) => {
        if (previous === undefined) {
          delete process.env.PUBSUB_EMULATOR_HOST;
        } else {
          process.env.PUBSUB_EMULATOR_HOST = previous;
        }
        if (child.exitCode !== null) {
          resolve();
          return;
        }
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
