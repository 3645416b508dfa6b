import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

import { temporal } from '@temporalio/proto';
import { Worker } from '@temporalio/worker';

const HISTORIES_DIR = path.join(__dirname, 'histories');

/**
 * Replays recorded mailboxWorkflow histories against the current workflow
 * code, so that a change which would break running mailboxes (a
 * non-determinism error) fails here. Re-record after an intended breaking
 * change with `npx tsx bench/mailbox-costs.ts --record test/replay/histories`,
 * and version the change with patched() so running mailboxes keep working.
 */
describe('mailboxWorkflow replay', () => {
  const files = readdirSync(HISTORIES_DIR).filter((file) => file.endsWith('.json'));

  it('has recorded histories', () => {
    expect(files.length).toBeGreaterThan(0);
  });

  it('replays every recorded history', async () => {
    const histories = files.map((file) => ({
      workflowId: path.basename(file, '.json'),
      // The files are protobuf.js JSON of fetchHistory() results, which fromObject reads back.
      history: temporal.api.history.v1.History.fromObject(JSON.parse(readFileSync(path.join(HISTORIES_DIR, file), 'utf8')) as Record<string, unknown>),
    }));

    const failures: string[] = [];
    for await (const result of Worker.runReplayHistories({ workflowsPath: require.resolve('../../workflows') }, histories)) {
      if (result.error) {
        failures.push(`${result.workflowId}: ${result.error.message}`);
      }
    }

    expect(failures).toEqual([]);
  });
});
