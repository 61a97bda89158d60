import { ConfigError } from '../errors.js';
import { checkFiles, type ReferencedFile } from './referenced-files.js';

/**
 * Fails a start early, naming the setting, when a file the config points at (keys,
 * certificates, CA bundles, JWKS files, preshared keys) cannot be read, instead of starting
 * half-configured and failing on the first request. `jwtexchange config check` reports the same
 * and more (files that parse badly, a key that does not match its certificate).
 */
export function checkReadableFiles(files: readonly ReferencedFile[]): void {
  const problems = checkFiles(files)
    .filter((r) => r.problem?.startsWith('cannot read '))
    .map((r) => ({
      path: r.setting,
      message: `${r.problem} (fix the path, or let the user this process runs as read it)`,
    }));
  if (problems.length > 0) throw new ConfigError(problems);
}
