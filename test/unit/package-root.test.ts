import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { packageRoot } from '../../src/package-root.js';
import { ROOT } from '../helpers/tools.js';

const url = (file: string) => pathToFileURL(file).href;

describe('packageRoot', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'jwtx-package-root-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('finds the package from a source module, a tsc-built one and the bundle alike', () => {
    expect(packageRoot(url(path.join(ROOT, 'src/metrics/registry.ts')))).toBe(ROOT);
    expect(packageRoot(url(path.join(ROOT, 'dist/metrics/registry.js')))).toBe(ROOT);
    expect(packageRoot(url(path.join(ROOT, 'dist/jwtexchange.mjs')))).toBe(ROOT);
  });

  it('stops at the nearest package.json, as Node does for a package of its own', () => {
    const pkg = path.join(dir, 'outer', 'inner');
    mkdirSync(path.join(pkg, 'dist', 'deep'), { recursive: true });
    writeFileSync(path.join(dir, 'outer', 'package.json'), '{}');
    writeFileSync(path.join(pkg, 'package.json'), '{}');
    expect(packageRoot(url(path.join(pkg, 'dist', 'deep', 'x.mjs')))).toBe(pkg);
    expect(packageRoot(url(path.join(dir, 'outer', 'y.js')))).toBe(path.join(dir, 'outer'));
  });
});
