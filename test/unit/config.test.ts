import { readFileSync } from 'node:fs';
import path from 'node:path';

import { ConfigError, loadConfig } from '../../src/config';
import { renderEnvExample } from '../../src/config/env-example';

describe('loadConfig', () => {
  it('applies documented defaults', () => {
    const config = loadConfig({});

    expect(config.temporalAddress).toBe('127.0.0.1:7233');
    expect(config.temporalNamespace).toBe('default');
    expect(config.taskQueue).toBe('gmail-sync');
    expect(config.temporalUiPort).toBe(8233);
    expect(config.shutdownGraceSeconds).toBe(30);
    expect(config.temporalApiKey).toBeUndefined();
  });

  it('names variable, value and allowed range', () => {
    expect(() => loadConfig({ TEMPORAL_UI_PORT: '70000' })).toThrow(
      'TEMPORAL_UI_PORT="70000" is invalid: expected a whole number from 1 to 65535.',
    );
  });

  it('reports every invalid setting at once', () => {
    let caught: unknown;
    try {
      loadConfig({ TEMPORAL_ADDRESS: 'no-port', GMAIL_SYNC_LOG_LEVEL: 'loud' });
    } catch (error) {
      caught = error;
    }

    expect(caught).toBeInstanceOf(ConfigError);
    const problems = (caught as ConfigError).problems;
    expect(problems).toHaveLength(2);
    expect(problems[0]).toContain('TEMPORAL_ADDRESS="no-port"');
    expect(problems[1]).toContain('GMAIL_SYNC_LOG_LEVEL="loud"');
    expect(problems[1]).toContain('one of fatal, error, warn, info, debug, trace, silent');
  });

  it('hides secret values in errors', () => {
    const invalidKey = '   ';

    expect(() => loadConfig({ TEMPORAL_API_KEY: invalidKey })).toThrow('TEMPORAL_API_KEY=(hidden, 3 characters)');
  });

  it('accepts an IPv6 Temporal address', () => {
    expect(loadConfig({ TEMPORAL_ADDRESS: '[::1]:7233' }).temporalAddress).toBe('[::1]:7233');
  });

  it('matches the committed .env.example', () => {
    const committed = readFileSync(path.resolve(__dirname, '..', '..', '.env.example'), 'utf8');

    expect(committed).toBe(renderEnvExample());
  });
});
