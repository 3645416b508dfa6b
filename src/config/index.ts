import path from 'node:path';

import { settings, type Settings } from './settings';

export { settings } from './settings';

type ValueOf<K extends keyof Settings> = ReturnType<Settings[K]['parse']>;

/** Settings without a default; they are undefined when not set. */
type OptionalKey =
  | 'temporalApiKey'
  | 'temporalTls'
  | 'apiToken'
  | 'pushAudience'
  | 'pushServiceAccount'
  | 'pullSubscription'
  | 'watchTopic'
  | 'workerMetricsAddress'
  | 'payloadKeys'
  | 'workspaceKeyFile'
  | 'oauthClientId'
  | 'oauthClientSecret'
  | 'oauthRedirectUrl'
  | 'tokenStorePath'
  | 'tokenStoreUrl'
  | 'tokenKeys';

/** Every setting, parsed. */
export type Config = {
  [K in Exclude<keyof Settings, OptionalKey>]: ValueOf<K>;
} & {
  [K in OptionalKey]: ValueOf<K> | undefined;
} & {
  /** The environment the config was read from, for the Temporal client environment loader. */
  env: Record<string, string>;
};

/** Thrown at start when settings are invalid; the message lists each one. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/**
 * Reads every setting from the environment once, validates all of them, and
 * throws one ConfigError that names each bad variable, its value and what is
 * allowed.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const problems: string[] = [];
  const values: Record<string, unknown> = {};

  for (const [key, spec] of Object.entries(settings)) {
    const raw = env[spec.name] !== undefined && env[spec.name] !== '' ? env[spec.name] : spec.defaultValue;
    if (raw === undefined) {
      values[key] = undefined;
      continue;
    }
    try {
      values[key] = (spec.parse as (value: string) => unknown)(raw);
    } catch (error) {
      const shown = spec.secret ? `(hidden, ${raw.length} characters)` : JSON.stringify(raw);
      problems.push(`${spec.name}=${shown} is invalid: expected ${(error as Error).message}.`);
    }
  }

  if (problems.length > 0) {
    throw new ConfigError(problems);
  }
  const definedEnv = Object.fromEntries(
    Object.entries(env).filter((entry): entry is [string, string] => entry[1] !== undefined),
  );
  return { ...(values as Omit<Config, 'env'>), env: definedEnv } as Config;
}

/** Resolves the data folder against the working directory. */
export function dataPath(config: Pick<Config, 'dataDir'>, ...parts: string[]): string {
  return path.resolve(config.dataDir, ...parts);
}
