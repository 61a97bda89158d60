import { closeSync, constants, openSync, statSync } from 'node:fs';
import { ConfigError } from '../errors.js';
import { formatPath } from './load.js';

/** Files a process writes itself (they may not exist yet). */
const WRITTEN_BY_US = new Set(['stateFile']);

function* fileSettings(value: unknown, at: PropertyKey[] = []): Generator<[string, string]> {
  if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) yield* fileSettings(v, [...at, i]);
  } else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (typeof v === 'string' && k.endsWith('File') && !WRITTEN_BY_US.has(k)) {
        yield [formatPath([...at, k]), v];
      } else {
        yield* fileSettings(v, [...at, k]);
      }
    }
  }
}

function unreadable(file: string): string | undefined {
  try {
    if (!statSync(file).isFile()) return `${file} is not a regular file`;
    closeSync(openSync(file, constants.O_RDONLY));
    return undefined;
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const why =
      e.code === 'ENOENT' ? 'no such file' : e.code === 'EACCES' ? 'permission denied' : e.message;
    return `cannot read ${file}: ${why}`;
  }
}

/**
 * Fails a start early, naming the setting, when a file the config points at (every `…File`
 * key: keys, certificates, CA bundles, JWKS, preshared keys) cannot be read, instead of starting
 * half-configured and failing on the first request.
 */
export function checkReadableFiles(config: unknown): void {
  const problems = [];
  for (const [setting, file] of fileSettings(config)) {
    const problem = unreadable(file);
    if (problem) {
      problems.push({
        path: setting,
        message: `${problem} (fix the path, or let the user this process runs as read it)`,
      });
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
}
