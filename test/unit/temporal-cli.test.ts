import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { findTemporalCli } from '../../src/provision/temporal-cli';

describe('findTemporalCli', () => {
  it('rejects a TEMPORAL_CLI_PATH that is not executable', () => {
    expect(() => findTemporalCli({ TEMPORAL_CLI_PATH: '/nonexistent/temporal' })).toThrow(
      'TEMPORAL_CLI_PATH=/nonexistent/temporal is not an executable file.',
    );
  });

  it('prefers TEMPORAL_CLI_PATH over PATH', () => {
    expect(findTemporalCli({ TEMPORAL_CLI_PATH: process.execPath, PATH: '' })).toEqual({
      kind: 'path',
      path: process.execPath,
      source: 'TEMPORAL_CLI_PATH',
    });
  });

  it('finds the binary in the cache folder', () => {
    const cache = mkdtempSync(path.join(os.tmpdir(), 'gmail-sync-cache-'));
    mkdirSync(path.join(cache, 'bin'));
    writeFileSync(path.join(cache, 'bin', 'temporal'), '#!/bin/sh\n', { mode: 0o755 });

    expect(findTemporalCli({ PATH: '', GMAIL_SYNC_CACHE_DIR: cache })).toEqual({
      kind: 'path',
      path: path.join(cache, 'bin', 'temporal'),
      source: 'cache',
    });
  });

  it('returns undefined when no binary exists', () => {
    expect(findTemporalCli({ PATH: '', GMAIL_SYNC_CACHE_DIR: '/nonexistent-cache' })).toBeUndefined();
  });
});
