import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REASON_CODES } from '../../src/errors.js';
import { SidecarMetrics } from '../../src/metrics/sidecar.js';
import { TokenExchangeMetrics } from '../../src/metrics/token-exchange.js';
import { ROOT } from '../helpers/tools.js';

const DOC = readFileSync(path.join(ROOT, 'docs/metrics.md'), 'utf8');

interface DocumentedMetric {
  readonly type: string;
  readonly labels: string[];
}

/**
 * Reads each `### \`name\`` section: the paragraph under it starts `<type> · labels: …`. Label
 * names are the backticked words outside parentheses (inside them are the label's values).
 */
function documentedMetrics(): Map<string, DocumentedMetric> {
  const out = new Map<string, DocumentedMetric>();
  const sections = DOC.split(/^### /m).slice(1);
  for (const section of sections) {
    const name = /^`([a-z_:]+)`/.exec(section)?.[1];
    if (!name) continue;
    const paragraph = section.split('\n\n')[1] ?? '';
    const match = /^(counter|gauge|histogram|summary) · labels: ([\s\S]*)$/.exec(paragraph.trim());
    if (!match) throw new Error(`docs/metrics.md: ${name} lacks a "<type> · labels: …" line`);
    const withoutValues = match[2]!.replace(/\([^)]*\)/g, '');
    const labels = [...withoutValues.matchAll(/`([a-z_]+)`/g)].map((m) => m[1]!);
    out.set(name, { type: match[1]!, labels });
  }
  return out;
}

/** The families of both processes (the sidecar's and token-exchange's registries). */
function registered(): Map<string, DocumentedMetric> {
  const out = new Map<string, DocumentedMetric>();
  const registries = [
    new SidecarMetrics({ defaultMetrics: false }).registry,
    new TokenExchangeMetrics({ defaultMetrics: false }).registry,
  ];
  for (const m of registries.flatMap((r) => r.getMetricsAsArray())) {
    const raw = m as unknown as { name: string; type: string; labelNames: string[] };
    out.set(raw.name, { type: raw.type, labels: [...raw.labelNames] });
  }
  return out;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = path.join(dir, f);
    return statSync(p).isDirectory() ? sourceFiles(p) : p.endsWith('.ts') ? [p] : [];
  });
}

describe('docs/metrics.md', () => {
  const docs = documentedMetrics();
  const code = registered();

  it('documents every registered metric with its type and label names', () => {
    expect(code.size).toBeGreaterThan(10);
    for (const [name, want] of code) {
      expect(docs.get(name), `${name} is registered but not documented`).toEqual(want);
    }
  });

  it('documents no metric that is not registered', () => {
    const extra = [...docs.keys()].filter((n) => !code.has(n));
    expect(extra).toEqual([]);
  });

  it('lists every reason code as a value of the reason label', () => {
    const row = /^\| `reason` .*$/m.exec(DOC)?.[0] ?? '';
    const listed = [...row.matchAll(/`([a-z_]+)`/g)].map((m) => m[1]).slice(1);
    expect(new Set(listed)).toEqual(new Set(REASON_CODES));
  });

  it('lists every pipeline phase name as a value of the phase label', () => {
    const row = /^\| `phase` .*$/m.exec(DOC)?.[0] ?? '';
    const listed = new Set([...row.matchAll(/`([a-z_]+)`/g)].map((m) => m[1]));
    // A Phase object declares its bounded metric label as `name: '<phase>'`.
    const phases = sourceFiles(path.join(ROOT, 'src/check'))
      .map((f) => readFileSync(f, 'utf8'))
      .filter((text) => /\bPhase\b/.test(text))
      .flatMap((text) => [...text.matchAll(/^\s+name: '([a-z_]+)',$/gm)].map((m) => m[1]));
    expect(phases.length).toBeGreaterThan(0);
    for (const phase of phases) expect(listed, `phase ${phase} is not documented`).toContain(phase);
  });
});
