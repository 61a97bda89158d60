import type { CaseResult, MeasuredCase } from '../cases/case.js';

/**
 * One case's results over several interleaved rounds, reduced to the round with the median
 * checks/s (its latency and extras come with it), so a burst of load from another process skews
 * one round rather than the result. An open-loop case runs at the same rate in every round, so
 * its median is by p99 instead. With an even count the worse of the two middle rounds is taken.
 * A failed, skipped or invalid round wins: it must be seen.
 */
export function medianRound(rounds: readonly CaseResult[]): CaseResult {
  const first = rounds[0];
  if (!first) throw new Error('no rounds to reduce');
  const isBad = (r: CaseResult) => r.kind === 'skipped' || r.problems.length > 0;
  const bad = rounds.find(isBad);
  if (bad?.kind === 'measured' && rounds.length > 1) {
    // How often it failed matters at an edge (a machine that collapses in some rounds only).
    const n = rounds.filter(isBad).length;
    return { ...bad, problems: [...bad.problems, `${n} of ${rounds.length} rounds invalid`] };
  }
  if (bad || rounds.length === 1) return bad ?? first;
  const measured = rounds.flatMap((r) => (r.kind === 'measured' ? [r] : []));
  const fixedRate = measured.some((r) => r.load.fixedRate !== undefined);
  // Ascending from the worst round: fewest checks/s, or highest p99.
  const score = (r: MeasuredCase) => (fixedRate ? -r.load.latencyMs.p99 : r.load.rps);
  const sorted = [...measured].sort((a, b) => score(a) - score(b));
  const median = sorted[Math.floor((sorted.length - 1) / 2)]!;
  return {
    ...median,
    roundsRps: measured.map((r) => Math.round(r.load.rps)),
    ...(fixedRate ? { roundsP99Ms: measured.map((r) => r.load.latencyMs.p99) } : {}),
  };
}
