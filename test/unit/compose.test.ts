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
}

const ROOT = path.resolve(__dirname, '..', '..');
const compose = parse(readFileSync(path.join(ROOT, 'docker-compose.yml'), 'utf8')) as { services: Record<string, Service> };
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

describe('docker-compose.yml', () => {
  it('defines the production-like stack', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['api', 'postgresql', 'temporal', 'temporal-ui', 'worker']);
    expect(compose.services.api.build).toBe('.');
    expect(compose.services.worker.build).toBe('.');
    expect(compose.services.api.command).toEqual(['npm', 'run', 'api']);
    expect(compose.services.worker.command).toEqual(['npm', 'run', 'worker']);
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
    const samples = {
      GMAIL_SYNC_API_TOKEN: 'a-long-random-token-for-the-test',
      GMAIL_SYNC_PUSH_AUDIENCE: 'https://sync.example.com/pubsub/push',
      GMAIL_SYNC_PUSH_SERVICE_ACCOUNT: 'push@my-project.iam.gserviceaccount.com',
      GMAIL_SYNC_PAYLOAD_KEYS: `compose-1:${Buffer.alloc(32, 7).toString('base64')}`,
    };
    const environment = Object.fromEntries(
      Object.entries(compose.services[name].environment ?? {}).map(([variable, value]) => [variable, interpolate(String(value), samples)]),
    );

    const config = loadConfig(environment);

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
});
