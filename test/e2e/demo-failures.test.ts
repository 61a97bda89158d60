import { spawn } from 'node:child_process';
import { mkdtempSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { finished } from '../helpers/processes.js';
import { ROOT, tool } from '../helpers/tools.js';

/**
 * `npm run demo` without its tools: it must say what to run, stop what it started (SpiceDB is a
 * child process) and exit 1 by itself. The tool lookup is pointed at a folder of our own through
 * JWTEXCHANGE_TOOLS_DIR; .tools/ is never touched.
 */
function demo(toolsDir: string) {
  return spawn(process.execPath, ['--import', 'tsx', 'demo/run.ts'], {
    cwd: ROOT,
    env: { ...process.env, JWTEXCHANGE_TOOLS_DIR: toolsDir },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
}

describe('npm run demo without the tools from npm run setup', { timeout: 120_000 }, () => {
  it('no tools at all: says to run npm run setup and exits 1', async () => {
    const empty = mkdtempSync(path.join(tmpdir(), 'jwtx-no-tools-'));
    const res = await finished(demo(empty));
    expect(res.code).toBe(1);
    expect(res.stderr).toContain(
      `demo failed: spicedb is not installed in ${empty} (JWTEXCHANGE_TOOLS_DIR): run \`npm run setup\``,
    );
    expect(res.leftBehind).toEqual([]);
  });

  it('SpiceDB but no Envoy: stops the SpiceDB it started, says what is missing, exits 1', async () => {
    const onlySpicedb = mkdtempSync(path.join(tmpdir(), 'jwtx-some-tools-'));
    symlinkSync(tool('spicedb'), path.join(onlySpicedb, 'spicedb'));
    const res = await finished(demo(onlySpicedb));
    expect(res.code).toBe(1);
    expect(res.stdout).toMatch(/SpiceDB 127\.0\.0\.1:\d+/); // it did start one
    expect(res.stderr).toContain(`demo failed: envoy is not installed in ${onlySpicedb}`);
    expect(res.leftBehind).toEqual([]);
  });
});
