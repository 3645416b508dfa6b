import path from 'node:path';

import { cacheDir, commandWorks, findOnPath, isExecutable, log, run, timed } from './common';

/** The Temporal CLI release that `go install` accepts; later ones carry a `replace` directive that it rejects. */
export const TEMPORAL_CLI_MODULE = 'github.com/temporalio/cli/cmd/temporal@v1.5.1';

export type TemporalCli =
  | { kind: 'path'; path: string; source: string }
  /** No binary here and no Go: @temporalio/testing downloads the CLI itself, which needs internet. */
  | { kind: 'download' };

function cachedCliPath(env: NodeJS.ProcessEnv): string {
  return path.join(cacheDir(env), 'bin', 'temporal');
}

/** Finds a Temporal CLI without building one. */
export function findTemporalCli(env: NodeJS.ProcessEnv = process.env): Extract<TemporalCli, { kind: 'path' }> | undefined {
  if (env.TEMPORAL_CLI_PATH) {
    if (!isExecutable(env.TEMPORAL_CLI_PATH)) {
      throw new Error(
        `TEMPORAL_CLI_PATH=${env.TEMPORAL_CLI_PATH} is not an executable file. Point it at a temporal binary or unset it.`,
      );
    }
    return { kind: 'path', path: env.TEMPORAL_CLI_PATH, source: 'TEMPORAL_CLI_PATH' };
  }
  const onPath = findOnPath('temporal', env);
  if (onPath) {
    return { kind: 'path', path: onPath, source: 'PATH' };
  }
  const cached = cachedCliPath(env);
  if (isExecutable(cached)) {
    return { kind: 'path', path: cached, source: 'cache' };
  }
  return undefined;
}

/**
 * Returns a Temporal CLI, building it with `go install` into the cache when
 * none is found. Without Go it falls back to @temporalio/testing's download.
 */
export async function provisionTemporalCli(env: NodeJS.ProcessEnv = process.env): Promise<TemporalCli> {
  const found = findTemporalCli(env);
  if (found) {
    log(`Temporal CLI: ${found.path} (from ${found.source})`);
    return found;
  }
  const go = findOnPath('go', env);
  if (!go || !commandWorks(go)) {
    log('Temporal CLI: not found and Go is not installed; @temporalio/testing will download it (needs internet).');
    return { kind: 'download' };
  }
  const target = cachedCliPath(env);
  await timed(`Temporal CLI: go install ${TEMPORAL_CLI_MODULE} into ${path.dirname(target)} (first build takes minutes)`, () =>
    run(go, ['install', TEMPORAL_CLI_MODULE], { env: { ...env, GOBIN: path.dirname(target) } }),
  );
  return { kind: 'path', path: target, source: 'go install' };
}
