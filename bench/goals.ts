import type { CaseResult, MeasuredCase } from './cases/case.js';

/**
 * Issue 13's goals, each as the number this run measured next to its reference from the same
 * run. A goal whose cases were not run (or did not give a trustworthy number) is "not measured".
 */
export interface Goal {
  readonly goal: string;
  readonly value: string;
  readonly reference: string;
  readonly target: string;
  /** undefined: not measured in this run. */
  readonly met: boolean | undefined;
}

type Find = (name: string) => MeasuredCase | undefined;

const f1 = (n: number) => n.toFixed(1);
const f2 = (n: number) => n.toFixed(2);
const k = (n: number) => Math.round(n).toLocaleString('en-US');

function finder(results: readonly CaseResult[]): Find {
  return (name) => {
    const r = results.find((c) => c.name === name);
    return r?.kind === 'measured' && r.problems.length === 0 ? r : undefined;
  };
}

const missing = (goal: string, target: string, why: string): Goal => ({
  goal,
  value: 'not measured',
  reference: why,
  target,
  met: undefined,
});

function throughEnvoy(find: Find): Goal[] {
  const goals: Goal[] = [];
  const [e1, j1] = [find('envoy-ext-authz@1000'), find('envoy-jwt-authn@1000')];
  const t1 = 'added p99 ≤ 1 ms';
  goals.push(
    e1 && j1
      ? {
          goal: 'through Envoy, 1,000 req/s: p99 added over jwt_authn',
          value: `+${f2(e1.load.latencyMs.p99 - j1.load.latencyMs.p99)} ms (p99 ${f2(e1.load.latencyMs.p99)} ms)`,
          reference: `jwt_authn p99 ${f2(j1.load.latencyMs.p99)} ms`,
          target: t1,
          met: e1.load.latencyMs.p99 - j1.load.latencyMs.p99 <= 1,
        }
      : missing('through Envoy, 1,000 req/s', t1, 'envoy-*@1000 not run or invalid'),
  );
  const [e3, j3] = [find('envoy-ext-authz@3000'), find('envoy-jwt-authn@3000')];
  const t3 = 'no errors, p99 ≤ 3× jwt_authn';
  goals.push(
    e3 && j3
      ? {
          goal: 'through Envoy, 3,000 req/s: errors, p99',
          value: `0 errors, p99 ${f2(e3.load.latencyMs.p99)} ms (${f2(e3.load.latencyMs.p99 / j3.load.latencyMs.p99)}×)`,
          reference: `jwt_authn p99 ${f2(j3.load.latencyMs.p99)} ms`,
          target: t3,
          met: e3.load.latencyMs.p99 <= 3 * j3.load.latencyMs.p99,
        }
      : missing(
          'through Envoy, 3,000 req/s',
          t3,
          'envoy-*@3000 not run, or answers other than 200',
        ),
  );
  const [ec, jc] = [find('envoy-ext-authz'), find('envoy-jwt-authn')];
  const tc = '≥ 0.8× jwt_authn';
  goals.push(
    ec && jc
      ? {
          goal: 'through Envoy, closed loop: requests/s',
          value: `${k(ec.load.rps)}/s (${f2(ec.load.rps / jc.load.rps)}×)`,
          reference: `jwt_authn ${k(jc.load.rps)}/s; no auth ${k(find('envoy-none')?.load.rps ?? NaN)}/s`,
          target: tc,
          met: ec.load.rps >= 0.8 * jc.load.rps,
        }
      : missing(
          'through Envoy, closed loop',
          tc,
          'envoy-ext-authz / envoy-jwt-authn not run or invalid',
        ),
  );
  return goals;
}

function distinct(find: Find): Goal {
  const d = find('inbound-distinct');
  const opa = find('opa-distinct');
  const target = '≥ 5,000/s per core and ≥ 1.8× OPA';
  if (!d)
    return missing(
      'distinct tokens, one pinned core',
      target,
      'inbound-distinct not run or invalid',
    );
  return {
    goal: 'distinct tokens, one pinned core',
    value: `${k(d.load.rps)}/s${opa ? ` (${f2(d.load.rps / opa.load.rps)}× OPA)` : ''}; ${f1(d.cpuUsPerCall ?? NaN)} µs CPU/check`,
    reference: opa
      ? `OPA ${k(opa.load.rps)}/s; ${f1(opa.cpuUsPerCall ?? NaN)} µs CPU/check`
      : 'OPA reference not run (scripts/setup-tools.sh opa-ref)',
    target,
    met: d.load.rps >= 5000 && (opa ? d.load.rps >= 1.8 * opa.load.rps : false),
  };
}

function warm(find: Find): Goal {
  const w = find('inbound-warm');
  const b = find('bare');
  const target = '≥ 0.9× bare (median), no round < 0.85';
  if (!w || !b)
    return missing('warm checks, one pinned core', target, 'inbound-warm / bare not run');
  const rounds = (w.roundsRps ?? [w.load.rps]).map((r, i) => r / (b.roundsRps ?? [b.load.rps])[i]!);
  const median = w.load.rps / b.load.rps;
  return {
    goal: 'warm checks, one pinned core',
    value: `${k(w.load.rps)}/s (${f2(median)}×; rounds ${rounds.map(f2).join(' / ')})`,
    reference: `bare grpc-js ${k(b.load.rps)}/s; bare-lean ${k(find('bare-lean')?.load.rps ?? NaN)}/s`,
    target,
    met: median >= 0.9 && rounds.every((r) => r >= 0.85),
  };
}

function memory(find: Find): Goal {
  const m = find('memory-churn');
  const target = 'RSS ≤ 150 MiB';
  if (!m) return missing('memory after distinct-token churn', target, 'memory-churn not run');
  const one = find('memory-churn-1w');
  const e = m.extras;
  return {
    goal: `memory after distinct-token churn (default: ${e.processes} processes)`,
    value: `RSS ${e.rssMiB} MiB (pod charged ≈ ${e.podChargedMiB} MiB, largest process ${e.largestProcessMiB} MiB)`,
    reference: one ? `workers: 1 → RSS ${one.extras.rssMiB} MiB` : 'memory-churn-1w not run',
    target,
    met: Number(e.rssMiB) <= 150,
  };
}

function scaling(find: Find): Goal {
  const [one, two] = [find('scale-1w'), find('scale-2w')];
  const target = 'more with 2 workers (2 cores, shared with the load generator)';
  if (!one || !two) return missing('workers 1 → 2', target, 'scale-1w / scale-2w not run');
  return {
    goal: 'workers 1 → 2, warm checks, unpinned',
    value: `${k(two.load.rps)}/s (${f2(two.load.rps / one.load.rps)}×)`,
    reference: `1 worker ${k(one.load.rps)}/s`,
    target,
    met: two.load.rps > one.load.rps,
  };
}

function start(find: Find): Goal {
  const s = find('start');
  const target = '≤ 0.6 s';
  if (!s) return missing('start → gRPC health SERVING', target, 'start not run');
  return {
    goal: 'start → gRPC health SERVING, embedded default',
    value: `${(s.load.latencyMs.p50 / 1000).toFixed(2)} s (runs ${String(s.extras.starts)} ms)`,
    reference: 'issue 13: 1.47 s (health flipped on a 1 s timer)',
    target,
    met: s.load.latencyMs.p50 <= 600,
  };
}

export function evaluateGoals(results: readonly CaseResult[]): Goal[] {
  const find = finder(results);
  return [
    ...throughEnvoy(find),
    distinct(find),
    warm(find),
    memory(find),
    scaling(find),
    start(find),
  ];
}

export function formatGoals(goals: readonly Goal[]): string {
  const rows = goals.map((g) => [
    g.goal,
    g.value,
    g.reference,
    g.target,
    g.met === undefined ? '-' : g.met ? 'met' : 'NOT met',
  ]);
  const header = ['goal (issue 13)', 'jwtexchange', 'reference, same run', 'target', 'verdict'];
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((r) => r[i]!.length)));
  const line = (r: string[]) =>
    r
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}
