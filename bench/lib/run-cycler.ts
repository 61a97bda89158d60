import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { pinned } from './child.js';
import type { LoadResult, LoadSettings } from './load-result.js';
import { BENCH_DIR } from './paths.js';

const run = promisify(execFile);
const CYCLER = path.join(BENCH_DIR, 'load', 'cycler.ts');

/** Runs the h2-cycler (bench/load/cycler.ts) in its own process and returns its measurement. */
export async function runCycler(
  address: string,
  bodiesFile: string,
  settings: LoadSettings,
  cpus?: string,
): Promise<LoadResult> {
  const input = JSON.stringify({ address, bodiesFile, settings });
  const timeout = (settings.durationSeconds + settings.warmupSeconds + 60) * 1000;
  const cmd = pinned(process.execPath, ['--import', 'tsx', CYCLER, input], cpus);
  const { stdout } = await run(cmd.command, cmd.args, {
    timeout,
    maxBuffer: 1 << 20,
  });
  return JSON.parse(stdout) as LoadResult;
}
