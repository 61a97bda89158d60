import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { SHARED_TMPDIR_ENV } from '../helpers/ports.js';

/**
 * test/global-setup.ts gives each run its own temp folder and removes it at the end; the port
 * locks stay in the machine's temp dir, where every run sees them.
 */
describe('the test run’s temp folder', () => {
  it('is where this worker and the processes it starts write, inside the machine’s temp dir', () => {
    const shared = process.env[SHARED_TMPDIR_ENV];
    expect(shared).toBeDefined();
    expect(path.basename(tmpdir())).toMatch(/^jwtx-test-tmp-/);
    expect(path.dirname(tmpdir())).toBe(shared);
    const child = spawnSync(process.execPath, ['-p', 'require("node:os").tmpdir()'], {
      encoding: 'utf8',
    });
    expect(child.stdout.trim()).toBe(tmpdir());
  });
});
