import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { toolsDir } from '../../test/helpers/tools.js';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const BENCH_DIR = path.join(ROOT, 'bench');
/** Git-ignored: latest.json, server logs, CPU profiles. */
export const RESULTS_DIR = path.join(BENCH_DIR, 'results');
/** The real CLI, compiled by `npm run build` (the bench script runs it first). */
export const CLI = process.env.JWTX_BENCH_CLI ?? path.join(ROOT, 'bin', 'jwtexchange.js');

/** h2load from the project's tools folder (scripts/setup-tools.sh h2load), else from PATH. */
export function h2loadBinary(): string {
  const local = path.join(toolsDir(), 'h2load');
  if (existsSync(local)) return local;
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const candidate = path.join(dir, 'h2load');
    if (dir && existsSync(candidate)) return candidate;
  }
  throw new Error('h2load is not installed: run `scripts/setup-tools.sh h2load` (nghttp2-client)');
}

/** True when a source directory of the repo holds at least one .ts file (feature probe). */
export function hasSources(dir: string): boolean {
  try {
    return readdirSync(path.join(ROOT, dir)).some((f) => f.endsWith('.ts'));
  } catch {
    return false;
  }
}
