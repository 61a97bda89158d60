import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The bundle that registered itself (src/cli/bundle-entry.ts); unset when run from dist/ or src/. */
let bundle: string | undefined;

/** Called by the bundle's entry: workers start from the same file as the primary. */
export function forkWorkersFrom(file: string): void {
  bundle = file;
}

/**
 * The file node:cluster forks for a worker: the bundle when the primary runs from it, else
 * worker-main next to this module (.js when built by tsc, .ts when run from source with tsx).
 */
export function workerEntry(): string {
  if (bundle !== undefined) return bundle;
  const built = fileURLToPath(new URL('./worker-main.js', import.meta.url));
  return existsSync(built) ? built : built.replace(/\.js$/, '.ts');
}
