import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/tools.js';

const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
  exports: Record<string, string>;
  bin: Record<string, string>;
};

describe('package.json exports: the public entry points', () => {
  it('names the CLI and the saga-relations helper, each built from a source file', () => {
    expect(Object.keys(pkg.exports).sort()).toEqual([
      './cli',
      './package.json',
      './saga-relations',
    ]);
    for (const [entry, target] of Object.entries(pkg.exports)) {
      if (entry === './package.json') continue;
      expect(target, entry).toMatch(/^\.\/dist\/.+\.js$/);
      const source = target.replace(/^\.\/dist\//, 'src/').replace(/\.js$/, '.ts');
      expect(existsSync(path.join(ROOT, source)), `${entry} → ${source}`).toBe(true);
    }
  });

  it('exports the main() the bin launcher runs (from the bundle, scripts/bundle.ts)', () => {
    const launcher = readFileSync(path.join(ROOT, pkg.bin.jwtexchange!), 'utf8');
    expect(launcher).toContain("import('../dist/jwtexchange.mjs')");
    const entry = readFileSync(path.join(ROOT, 'src/cli/bundle-entry.ts'), 'utf8');
    const cli = pkg.exports['./cli']!.replace(/^\.\/dist\/cli\//, './');
    expect(entry).toContain(`export { main } from '${cli}';`);
  });
});
