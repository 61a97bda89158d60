import type { ProfileSummary } from '../lib/cpu-profile.js';
import type { Fixtures } from '../lib/fixtures.js';
import type { LoadResult, LoadSettings } from '../lib/load-result.js';
import type { Measurement } from '../lib/measure.js';

/** What every case gets from the orchestrator. */
export interface CaseContext {
  readonly settings: LoadSettings;
  readonly fixtures: Fixtures;
  /** Where server logs and profiles go (bench/results/). */
  readonly resultsDir: string;
  /** Distinct tokens to cycle in the distinct-token case (more than the verified cache holds). */
  readonly distinctTokens: number;
  /** Run the case's server under `node --cpu-prof` and summarise the profile. */
  readonly profile: boolean;
  /**
   * CPUs (taskset lists) for the per-core cases: the server on one, the load generator on the
   * other, so neither steals the other's core. Undefined with --no-pin or on a 1-CPU machine.
   */
  readonly cpus: { readonly server?: string; readonly generator?: string };
}

export interface MeasuredCase {
  readonly kind: 'measured';
  readonly name: string;
  readonly summary: string;
  readonly load: LoadResult;
  /** Decisions the server counted during the run (warm-up included). */
  readonly served: { readonly ok: number; readonly denied: number };
  /** Empty when every answer was as expected; otherwise the numbers must not be trusted. */
  readonly problems: readonly string[];
  /** Case-specific figures, e.g. cache hit ratios. */
  readonly extras: Readonly<Record<string, number | string>>;
  /** Present when the case ran under --profile. */
  readonly profile?: ProfileSummary;
  /** checks/s of every round, in run order, when --rounds > 1 (this result is the median). */
  readonly roundsRps?: readonly number[];
  /** p99 ms of every round, in run order, for an open-loop case (its median is by p99). */
  readonly roundsP99Ms?: readonly number[];
  /** Server CPU µs per call (process tree), when measured. */
  readonly cpuUsPerCall?: number;
}

export interface SkippedCase {
  readonly kind: 'skipped';
  readonly name: string;
  readonly summary: string;
  readonly reason: string;
}

export type CaseResult = MeasuredCase | SkippedCase;

/** One benchmark scenario: starts its own server process, measures, stops it. */
export interface BenchCase {
  readonly name: string;
  /** One line: what the case measures. */
  readonly summary: string;
  run(ctx: CaseContext): Promise<CaseResult>;
}

export function skipped(c: Pick<BenchCase, 'name' | 'summary'>, reason: string): SkippedCase {
  return { kind: 'skipped', name: c.name, summary: c.summary, reason };
}

/** hits / (hits + misses), or NaN when nothing was looked up. */
export function hitRatio(hits: number, misses: number): number {
  return hits + misses === 0 ? NaN : hits / (hits + misses);
}

export function measured(
  c: Pick<BenchCase, 'name' | 'summary'>,
  m: Measurement,
  extras: Record<string, number | string> = {},
  profile?: ProfileSummary,
): MeasuredCase {
  return {
    kind: 'measured',
    name: c.name,
    summary: c.summary,
    load: m.load,
    served: m.served,
    problems: m.problems,
    extras,
    cpuUsPerCall: m.serverCpuUsPerCall,
    ...(profile ? { profile } : {}),
  };
}
