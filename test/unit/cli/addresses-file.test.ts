import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeAddressesFile } from '../../../src/cli/addresses-file.js';

describe('writeAddressesFile', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'jwtx-addresses-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('writes the pid and the bound addresses as one JSON line, and removes it on stop', () => {
    const file = path.join(dir, 'addresses.json');
    const remove = writeAddressesFile(file, { grpc: '127.0.0.1:40123', http: '127.0.0.1:40124' });
    const text = readFileSync(file, 'utf8');
    expect(text.endsWith('\n')).toBe(true);
    expect(JSON.parse(text)).toEqual({
      pid: process.pid,
      grpc: '127.0.0.1:40123',
      http: '127.0.0.1:40124',
    });
    expect(readdirSync(dir)).toEqual(['addresses.json']); // no temporary file left
    remove();
    expect(existsSync(file)).toBe(false);
    remove(); // removing twice is fine
  });

  it('does nothing without a file', () => {
    const remove = writeAddressesFile(undefined, { grpc: '127.0.0.1:1' });
    expect(readdirSync(dir)).toEqual([]);
    expect(remove()).toBeUndefined();
  });
});
