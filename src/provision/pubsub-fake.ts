import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

import { cacheDir, commandWorks, findOnPath, isExecutable, log, PROJECT_ROOT, run, timed } from './common';

const SOURCE_DIR = path.join(PROJECT_ROOT, 'test', 'pubsub-fake');

/** Returns the binary path, keyed by a hash of the sources so that an edit rebuilds it and an unchanged checkout reuses it. */
export function pubsubFakePath(env: NodeJS.ProcessEnv = process.env): string {
  const hash = createHash('sha256');
  const sources = readdirSync(SOURCE_DIR).filter((name) => name.endsWith('.go')).sort();
  for (const file of ['go.mod', 'go.sum', ...sources]) {
    hash.update(readFileSync(path.join(SOURCE_DIR, file)));
  }
  return path.join(cacheDir(env), 'pubsub-fake', hash.digest('hex').slice(0, 16), 'pubsub-fake');
}

/** Returns the Pub/Sub fake binary, building it with Go when missing. */
export async function provisionPubsubFake(env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const binary = pubsubFakePath(env);
  if (isExecutable(binary)) {
    log(`Pub/Sub fake: ${binary} (from cache)`);
    return binary;
  }
  const go = findOnPath('go', env);
  if (!go || !commandWorks(go)) {
    throw new Error('The Pub/Sub fake needs Go to build (test/pubsub-fake). Install Go 1.26 or later and run `npm run provision`.');
  }
  await timed(`Pub/Sub fake: go build in ${path.relative(PROJECT_ROOT, SOURCE_DIR)}`, () =>
    run(go, ['build', '-o', binary, '.'], { cwd: SOURCE_DIR }),
  );
  return binary;
}
