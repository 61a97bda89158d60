import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { scanRunLogs } from './helpers/leak-scan.js';
import { SHARED_TMPDIR_ENV } from './helpers/ports.js';
import { RUN_LOG_DIR_ENV } from './helpers/run-logs.js';

/**
 * One log folder per test run (test/helpers/run-logs.ts). At the end every captured log is
 * checked for the secrets the run created and the planted ones; a leak fails the run (a non-zero
 * exit code: vitest only reports errors thrown here) and keeps the folder for inspection.
 *
 * One temporary folder per run, too: TMPDIR points into it for the test workers and every process
 * they start (node's os.tmpdir(), Go's os.TempDir()), and the run removes it at the end, so the
 * keys, configs and sockets the tests write never pile up in the machine's /tmp. Port locks
 * (helpers/ports.ts) stay in the machine's temp dir, shared by every run.
 */
let dir: string;
let runTmp: string;

export function setup(): void {
  const base = tmpdir();
  dir = mkdtempSync(path.join(base, 'jwtx-test-logs-'));
  process.env[RUN_LOG_DIR_ENV] = dir;
  runTmp = mkdtempSync(path.join(base, 'jwtx-test-tmp-'));
  process.env[SHARED_TMPDIR_ENV] = base;
  process.env.TMPDIR = runTmp;
}

export function teardown(): void {
  rmSync(runTmp, { recursive: true, force: true });
  const result = scanRunLogs(dir);
  if (result.leaks.length === 0) {
    process.stdout.write(
      `log check: ${result.files} captured logs (${Math.round(result.bytes / 1024)} KiB) hold none of ${result.secrets} secrets\n`,
    );
    // JWTX_KEEP_TEST_LOGS=1 keeps them to read after the run.
    if (process.env.JWTX_KEEP_TEST_LOGS) process.stdout.write(`logs kept in ${dir}\n`);
    else rmSync(dir, { recursive: true, force: true });
    return;
  }
  const report = result.leaks.map((l) => `  ${l.file}:${l.line}: ${l.what}`).join('\n');
  process.stderr.write(
    `\nSECRET IN A LOG: ${result.leaks.length} leak(s) in the captured logs (${dir}):\n${report}\n`,
  );
  process.exitCode = 1;
}
