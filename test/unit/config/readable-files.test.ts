import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkReadableFiles } from '../../../src/config/readable-files.js';
import { ConfigError } from '../../../src/errors.js';

const dir = mkdtempSync(path.join(tmpdir(), 'jwtx-readable-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('checkReadableFiles', () => {
  it('lets files through that can be read, even when they do not parse', () => {
    const file = path.join(dir, 'junk.jwks');
    writeFileSync(file, 'junk');
    expect(() => checkReadableFiles([{ setting: 'a.jwksFile', file, kind: 'jwks' }])).not.toThrow();
    expect(() => checkReadableFiles([])).not.toThrow();
  });

  it('fails with every unreadable file, named by its setting', () => {
    const missing = path.join(dir, 'missing.pem');
    let err: unknown;
    try {
      checkReadableFiles([
        { setting: 'spicedb.caFile', file: missing, kind: 'ca-bundle' },
        { setting: 'spicedb.presharedKeyFile', file: dir, kind: 'secret' },
      ]);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const problems = (err as ConfigError).problems;
    expect(problems.map((p) => p.path)).toEqual(['spicedb.caFile', 'spicedb.presharedKeyFile']);
    expect(problems[0]!.message).toBe(
      `cannot read ${missing}: no such file (fix the path, or let the user this process runs as read it)`,
    );
  });
});
