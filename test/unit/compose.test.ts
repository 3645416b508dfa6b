import { readFileSync } from 'node:fs';
import path from 'node:path';

import { parse } from 'yaml';

import { loadConfig, settings } from '../../src/config';

interface Service {
  image?: string;
  build?: string;
  command?: string[];
  ports?: string[];
  environment?: Record<string, string>;
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] };
  volumes?: string[];
}

const ROOT = path.resolve(__dirname, '..', '..');
const composeText = readFileSync(path.join(ROOT, 'docker-compose.yml'), 'utf8');
const compose = parse(composeText) as { services: Record<string, Service> };
const KNOWN_SETTINGS = new Set(Object.values(settings).map((spec) => spec.name));

/** Replaces `${NAME:?message}` and `${NAME:-default}` the way Compose does, with sample values for required ones. */
function interpolate(value: string, samples: Record<string, string>): string {
  return value.replace(/\$\{([A-Z_]+)(?::([?-])([^}]*))?\}/g, (_match, name: string, kind?: string, rest?: string) => {
    if (samples[name] !== undefined) {
      return samples[name];
    }
    if (kind === '?') {
      throw new Error(`${name} is required: ${rest}`);
    }
    return rest ?? '';
  });
}

/** Values for the variables that the compose file requires from the shell or an .env file. */
const SAMPLES: Record<string, string> = {
  GMAIL_SYNC_API_TOKEN: 'a-long-random-token-for-the-test',
  GMAIL_SYNC_PUSH_AUDIENCE: 'https://sync.example.com/pubsub/push',
  GMAIL_SYNC_PUSH_SERVICE_ACCOUNT: 'push@my-project.iam.gserviceaccount.com',
  GMAIL_SYNC_PAYLOAD_KEYS: `compose-1:${Buffer.alloc(32, 7).toString('base64')}`,
  GMAIL_SYNC_TOKEN_KEYS: `tokens-1:${Buffer.alloc(32, 9).toString('base64')}`,
  GMAIL_SYNC_CREDENTIAL_PROVIDER: 'workspace',
  TOKEN_STORE_DB_PASSWORD: '0123456789abcdef0123456789abcdef',
};

/** Returns the environment that Compose would give a service, with SAMPLES standing in for the shell. */
function interpolatedEnvironment(name: string, samples: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(compose.services[name].environment ?? {}).map(([variable, value]) => [variable, interpolate(String(value), samples)]),
  );
}

describe('docker-compose.yml', () => {
  it('defines the production-like stack', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['api', 'postgresql', 'temporal', 'temporal-ui', 'worker']);
    expect(compose.services.api.build).toBe('.');
    expect(compose.services.worker.build).toBe('.');
    expect(compose.services.api.command).toEqual(['node', '--import', 'tsx', 'src/api-main.ts']);
    expect(compose.services.worker.command).toEqual(['node', '--import', 'tsx', 'src/worker-main.ts']);
  });

  it('publishes API, Temporal and UI ports', () => {
    expect(compose.services.api.ports).toEqual(['3000:3000']);
    expect(compose.services.temporal.ports).toEqual(['7233:7233']);
    expect(compose.services['temporal-ui'].ports).toEqual(['8233:8080']);
  });

  it.each(['postgresql', 'temporal', 'api', 'worker'])('gives %s a health check', (name) => {
    expect(compose.services[name].healthcheck?.test.length).toBeGreaterThan(1);
  });

  it.each(['temporal', 'temporal-ui', 'api', 'worker'])('starts %s after healthy dependencies', (name) => {
    const dependencies = compose.services[name].depends_on ?? {};

    expect(Object.keys(dependencies).length).toBeGreaterThan(0);
    for (const dependency of Object.values(dependencies)) {
      expect(dependency.condition).toBe('service_healthy');
    }
  });

  it.each(['api', 'worker'])('sets only known settings on %s', (name) => {
    const unknown = Object.keys(compose.services[name].environment ?? {}).filter((variable) => !KNOWN_SETTINGS.has(variable));

    expect(unknown).toEqual([]);
  });

  it.each(['api', 'worker'])('passes config validation on %s', (name) => {
    const config = loadConfig(interpolatedEnvironment(name, SAMPLES));

    expect(config.temporalAddress).toBe('temporal:7233');
  });

  it('requires the API secrets from the shell', () => {
    const environment = compose.services.api.environment ?? {};

    for (const variable of ['GMAIL_SYNC_API_TOKEN', 'GMAIL_SYNC_PUSH_AUDIENCE', 'GMAIL_SYNC_PUSH_SERVICE_ACCOUNT']) {
      expect(() => interpolate(environment[variable], {})).toThrow(`${variable} is required`);
    }
  });

  it.each(['api', 'worker'])('requires the payload keyring on %s', (name) => {
    const environment = compose.services[name].environment ?? {};

    expect(() => interpolate(environment.GMAIL_SYNC_PAYLOAD_KEYS, {})).toThrow('GMAIL_SYNC_PAYLOAD_KEYS is required');
  });

  it('points the UI at the codec server', () => {
    expect(compose.services['temporal-ui'].environment?.TEMPORAL_CODEC_ENDPOINT).toBe('http://localhost:3000/codec');
  });

  it('binds the API to all interfaces in its container', () => {
    expect(compose.services.api.environment?.GMAIL_SYNC_API_HOST).toBe('0.0.0.0');
  });

  it('names only known GMAIL_SYNC_ settings anywhere', () => {
    const setVariables = Object.values(compose.services).flatMap((service) => Object.keys(service.environment ?? {}));
    const interpolatedVariables = [...composeText.matchAll(/\$\{([A-Z_]+)/g)].map((match) => match[1]);
    const named = [...setVariables, ...interpolatedVariables].filter((variable) => variable.startsWith('GMAIL_SYNC_'));

    expect(named.length).toBeGreaterThan(0);
    expect(named.filter((variable) => !KNOWN_SETTINGS.has(variable))).toEqual([]);
  });

  it.each(['api', 'worker'])('keeps refresh tokens in the PostgreSQL token store on %s', (name) => {
    const environment = interpolatedEnvironment(name, SAMPLES);
    const url = new URL(environment.GMAIL_SYNC_TOKEN_STORE_URL);

    expect(environment.GMAIL_SYNC_TOKEN_STORE).toBe('postgres');
    expect(url.protocol).toBe('postgres:');
    expect(url.hostname).toBe('postgresql');
    expect(url.port).toBe('5432');
    expect(url.username).toBe('gmail_sync');
    expect(url.password).toBe(SAMPLES.TOKEN_STORE_DB_PASSWORD);
    expect(url.pathname).toBe('/gmail_sync');
    expect(compose.services[name].depends_on?.postgresql?.condition).toBe('service_healthy');
  });

  it('creates the token store database on the PostgreSQL service', () => {
    const postgresql = compose.services.postgresql;
    const initMount = (postgresql.volumes ?? []).find((volume) => volume.split(':')[1] === '/docker-entrypoint-initdb.d');

    expect(initMount).toBe('./docker/postgres-init:/docker-entrypoint-initdb.d:ro');
    const script = readFileSync(path.join(ROOT, 'docker', 'postgres-init', '10-gmail-sync.sh'), 'utf8');
    expect(script).toContain('CREATE DATABASE gmail_sync OWNER gmail_sync');
    expect(interpolate(String(postgresql.environment?.TOKEN_STORE_DB_PASSWORD), SAMPLES)).toBe(SAMPLES.TOKEN_STORE_DB_PASSWORD);
  });

  it.each(['api', 'worker'])('requires the token keyring and database password on %s', (name) => {
    const environment = compose.services[name].environment ?? {};
    const withoutKeys = { ...SAMPLES, GMAIL_SYNC_TOKEN_KEYS: undefined } as unknown as Record<string, string>;
    const withoutPassword = { ...SAMPLES, TOKEN_STORE_DB_PASSWORD: undefined } as unknown as Record<string, string>;

    expect(() => interpolate(environment.GMAIL_SYNC_TOKEN_KEYS, withoutKeys)).toThrow('GMAIL_SYNC_TOKEN_KEYS is required');
    expect(() => interpolate(environment.GMAIL_SYNC_TOKEN_STORE_URL, withoutPassword)).toThrow('TOKEN_STORE_DB_PASSWORD is required');
  });

  it('takes every secret setting from the shell', () => {
    const secrets = Object.values(settings).filter((spec) => spec.secret).map((spec) => spec.name);

    for (const service of Object.values(compose.services)) {
      for (const [variable, value] of Object.entries(service.environment ?? {})) {
        if (secrets.includes(variable)) {
          expect({ variable, fromShell: /\$\{[A-Z_]+/.test(String(value)) }).toEqual({ variable, fromShell: true });
        }
      }
    }
    expect(secrets).toEqual(expect.arrayContaining(['GMAIL_SYNC_API_TOKEN', 'GMAIL_SYNC_PAYLOAD_KEYS']));
  });

  it('passes the same Google credential settings to api and worker', () => {
    const credentialVariables = (name: string) =>
      Object.entries(compose.services[name].environment ?? {}).filter(
        ([variable]) => /^GMAIL_SYNC_(CREDENTIAL_PROVIDER|GMAIL_SCOPE|WORKSPACE_KEY_FILE|OAUTH_CLIENT_ID|OAUTH_CLIENT_SECRET|TOKEN_)/.test(variable),
      );

    expect(credentialVariables('worker').length).toBeGreaterThanOrEqual(8);
    expect(credentialVariables('worker')).toEqual(credentialVariables('api'));
    expect(() => interpolate(String(compose.services.api.environment?.GMAIL_SYNC_CREDENTIAL_PROVIDER), {})).toThrow(
      'GMAIL_SYNC_CREDENTIAL_PROVIDER is required',
    );
  });

  it('lets the UI origin call the codec server', () => {
    const [uiHostPort] = (compose.services['temporal-ui'].ports ?? [])[0].split(':');
    const [apiHostPort] = (compose.services.api.ports ?? [])[0].split(':');
    const config = loadConfig(interpolatedEnvironment('api', SAMPLES));

    expect(config.codecCorsOrigins).toContain(`http://localhost:${uiHostPort}`);
    expect(compose.services['temporal-ui'].environment?.TEMPORAL_CODEC_ENDPOINT).toBe(`http://localhost:${apiHostPort}/codec`);
    expect(compose.services['temporal-ui'].environment?.TEMPORAL_CODEC_INCLUDE_CREDENTIALS).toBe('true');
  });
});
