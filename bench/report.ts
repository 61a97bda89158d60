import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { CaseResult, MeasuredCase } from './cases/case.js';
import type { ProfileSummary } from './lib/cpu-profile.js';
import type { Goal } from './goals.js';
import type { BenchOptions } from './options.js';
import type { Allocator } from './lib/server-env.js';

/** Warm paths must keep at least this share of the bare grpc-js ceiling (issues 2, 4 and 13). */
export const WARM_TARGET = 0.9;
const TARGET_CASES = ['inbound-warm', 'inbound-warm-http', 'outbound-warm'];

/** The per-core cases on the ext_authz HTTP listener: divided by the HTTP ceiling. */
const HTTP_CASES = new Set([
  'bare-http',
  'vegeta-ceiling',
  'inbound-warm-http',
  'inbound-distinct-http',
]);

/** The ceiling a case's "vs bare" divides by: `bare-http` for the HTTP cases, else `bare`. */
export function ceilingName(name: string): 'bare' | 'bare-http' {
  return HTTP_CASES.has(name) ? 'bare-http' : 'bare';
}

function ceilingOf(results: readonly CaseResult[], c: CaseResult): CaseResult | undefined {
  const name = ceilingName(c.name);
  return results.find((r) => r.name === name);
}

export interface Machine {
  readonly cpus: number;
  readonly cpuModel: string;
  readonly node: string;
  /** The servers' malloc (bench/lib/server-env.ts). */
  readonly allocator: Allocator;
  readonly loadAverage: { readonly start: number[]; readonly end: number[] };
  readonly commit: string;
}

/** rps / the ceiling's rps, when both were measured and trustworthy. */
export function ratioToBare(c: CaseResult, bare: CaseResult | undefined): number | undefined {
  if (c.kind !== 'measured' || bare?.kind !== 'measured') return undefined;
  if (c.problems.length > 0 || bare.problems.length > 0 || bare.load.rps === 0) return undefined;
  return c.load.rps / bare.load.rps;
}

const num = (n: number, digits = 0) =>
  Number.isFinite(n)
    ? n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })
    : '-';

function extrasText(c: MeasuredCase): string {
  return Object.entries(c.extras)
    .map(([k, v]) =>
      typeof v === 'number' && k.endsWith('Ratio') ? `${k} ${num(100 * v, 2)}%` : `${k} ${v}`,
    )
    .join(', ');
}

function row(c: CaseResult, bare: CaseResult | undefined): string[] {
  if (c.kind === 'skipped') return [c.name, '', '', '', '', '', '', `skipped: ${c.reason}`];
  const ratio = ratioToBare(c, bare);
  const notes = [
    extrasText(c),
    c.roundsP99Ms
      ? `rounds p99 ${c.roundsP99Ms.map((r) => num(r, 2)).join(' / ')} ms`
      : c.roundsRps
        ? `rounds ${c.roundsRps.map((r) => num(r)).join(' / ')}/s`
        : '',
  ]
    .filter(Boolean)
    .join('; ');
  const verdict =
    c.problems.length > 0
      ? `INVALID: ${c.problems.join('; ')}`
      : `${num(c.load.completed)} ok` + (notes ? `; ${notes}` : '');
  return [
    c.name,
    c.load.generator,
    num(c.load.rps),
    num(c.load.latencyMs.p50, 2),
    num(c.load.latencyMs.p99, 2),
    c.cpuUsPerCall === undefined ? '-' : num(c.cpuUsPerCall, 1),
    ratio === undefined ? '-' : num(ratio, 2),
    verdict,
  ];
}

/** A plain-text table; the last column is left unpadded so long notes do not widen it. */
export function formatTable(results: readonly CaseResult[]): string {
  const header = [
    'case',
    'load gen',
    'checks/s',
    'p50 ms',
    'p99 ms',
    'CPU µs',
    'vs bare',
    'answers / notes',
  ];
  const rows = [header, ...results.map((r) => row(r, ceilingOf(results, r)))];
  const widths = header.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const right = new Set([2, 3, 4, 5, 6]);
  const line = (r: string[]) =>
    r
      .map((cell, i) =>
        i === r.length - 1
          ? cell
          : right.has(i)
            ? cell.padStart(widths[i]!)
            : cell.padEnd(widths[i]!),
      )
      .join('  ');
  return [
    line(header),
    widths.map((w) => '-'.repeat(w)).join('  '),
    ...rows.slice(1).map(line),
  ].join('\n');
}

export function formatVerdict(results: readonly CaseResult[]): string {
  return TARGET_CASES.filter((name) => results.some((r) => r.name === name))
    .map((name) => {
      const c = results.find((r) => r.name === name)!;
      const ratio = ratioToBare(c, ceilingOf(results, c));
      const target = `target (${name} ≥ ${WARM_TARGET} × ${ceilingName(name)})`;
      if (ratio === undefined) return `${target}: not evaluated`;
      return `${target}: ${ratio >= WARM_TARGET ? 'met' : 'NOT met'} (${num(ratio, 2)})`;
    })
    .join('\n');
}

export function formatProfile(name: string, p: ProfileSummary): string {
  const areas = p.areas
    .filter((a) => a.percent >= 1)
    .map((a) => `${a.area} ${num(a.percent, 1)}%`)
    .join(', ');
  const spot = (s: ProfileSummary['top'][number]) =>
    `  ${num(s.percent, 1).padStart(5)}%  ${s.function}  ${s.location}`;
  return [
    `CPU profile of ${name} (${p.file}), ${num(p.busyMs)} ms busy`,
    `by area: ${areas}`,
    'top self time:',
    ...p.top.map(spot),
    'jwtexchange code, inclusive:',
    ...p.ownInclusive.map(spot),
  ].join('\n');
}

/** bench/results/latest.json: everything printed, machine-readable. */
export function writeJson(
  file: string,
  options: BenchOptions,
  machine: Machine,
  results: readonly CaseResult[],
  goals: readonly Goal[],
): void {
  mkdirSync(path.dirname(file), { recursive: true });
  const document = {
    generatedAt: new Date().toISOString(),
    machine,
    settings: options.settings,
    rounds: options.rounds,
    distinctTokens: options.distinctTokens,
    warmTarget: WARM_TARGET,
    cases: results.map((r) => ({
      ...r,
      ceiling: ceilingName(r.name),
      ratioToBare: ratioToBare(r, ceilingOf(results, r)) ?? null,
    })),
    goals,
  };
  writeFileSync(file, JSON.stringify(document, null, 2) + '\n');
}
