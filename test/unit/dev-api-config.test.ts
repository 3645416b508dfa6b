import { devApiConfig } from '../../src/api/dev-support';
import { loadConfig } from '../../src/config';

describe('devApiConfig', () => {
  it('allows the moved Temporal UI origin', () => {
    const config = devApiConfig(loadConfig({ TEMPORAL_UI_PORT: '48001' }), 'dev-token', undefined);

    expect(config.codecCorsOrigins).toEqual(['http://localhost:48001', 'http://127.0.0.1:48001']);
  });

  it('keeps origins that are set', () => {
    const env = { TEMPORAL_UI_PORT: '48001', GMAIL_SYNC_CODEC_CORS_ORIGINS: 'https://temporal.example.com' };
    const config = devApiConfig(loadConfig(env), 'dev-token', undefined);

    expect(config.codecCorsOrigins).toEqual(['https://temporal.example.com']);
  });
});
