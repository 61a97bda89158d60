import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { SpicedbConfig } from '../../../src/config/sections/spicedb.js';
import { ConfigError } from '../../../src/errors.js';
import { presharedKeySource } from '../../../src/spicedb/preshared-key.js';

const base: SpicedbConfig = {
  endpoint: '127.0.0.1:50051',
  transport: 'plaintext',
  timeoutMs: 250,
  schemaTimeoutMs: 5000,
  schemaRetryMs: 2000,
};

describe('presharedKeySource', () => {
  const setup = (content: string) => {
    const dir = mkdtempSync(path.join(tmpdir(), 'jwtx-psk-'));
    const file = path.join(dir, 'key');
    writeFileSync(file, content);
    let reloads = 0;
    const key = presharedKeySource({ ...base, presharedKeyFile: file }, () => reloads++);
    return { dir, file, key, reloads: () => reloads };
  };

  it('re-reads a key file that changed on disk, e.g. a rotated Secret swapped in', () => {
    const { dir, file, key, reloads } = setup('first\n');
    expect(key()).toBe('first');
    expect(key()).toBe('first');
    // Kubernetes swaps a Secret volume atomically: a new file renamed over the old one.
    writeFileSync(path.join(dir, 'next'), 'second\n');
    renameSync(path.join(dir, 'next'), file);
    expect(key()).toBe('second');
    expect(reloads()).toBe(1);
  });

  it('keeps the last key while the file is missing or empty', () => {
    const { file, key, reloads } = setup('first');
    rmSync(file);
    expect(key()).toBe('first');
    writeFileSync(file, '\n');
    expect(key()).toBe('first');
    writeFileSync(file, 'third');
    expect(key()).toBe('third');
    expect(reloads()).toBe(1);
  });

  it('fails at start like readPresharedKey, and a key from the environment never changes', () => {
    expect(() => presharedKeySource({ ...base, presharedKeyEnv: 'NOPE' }, undefined, {})).toThrow(
      ConfigError,
    );
    const env = { SPICE: 'envkey' };
    const key = presharedKeySource({ ...base, presharedKeyEnv: 'SPICE' }, undefined, env);
    env.SPICE = 'changed';
    expect(key()).toBe('envkey');
  });
});
