import { readFileSync, statSync } from 'node:fs';
import type { SpicedbConfig } from '../config/sections/spicedb.js';
import { readPresharedKey } from './client.js';

function stampOf(file: string): string {
  const s = statSync(file);
  return `${s.ino}:${s.size}:${s.mtimeMs}`;
}

/**
 * The preshared key as a function read on every SpiceDB call. A key file is re-read when it
 * changes on disk (inode, size or mtime), so a rotated Secret is used without a restart; while
 * the file is missing, unreadable or empty (a Secret being swapped) the last key is kept. A key
 * from an environment variable cannot change. The first read fails like readPresharedKey.
 */
export function presharedKeySource(
  cfg: SpicedbConfig,
  onReload: () => void = () => undefined,
  env: NodeJS.ProcessEnv = process.env,
): () => string {
  let key = readPresharedKey(cfg, env);
  const file = cfg.presharedKeyFile;
  if (file === undefined) return () => key;
  let stamp = stampOf(file);
  return () => {
    let now: string;
    try {
      now = stampOf(file);
    } catch {
      return key;
    }
    if (now === stamp) return key;
    stamp = now;
    let next = '';
    try {
      next = readFileSync(file, 'utf8').trim();
    } catch {
      // Keep the last key; the change that follows is read again.
    }
    if (next && next !== key) {
      key = next;
      onReload();
    }
    return key;
  };
}
