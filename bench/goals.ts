import type { CaseResult, MeasuredCase } from './cases/case.js';

/** Which ext_authz transport a goal was measured over (the start goal: neither). */
export type GoalTransport = 'gRPC' | 'HTTP' | '';

/**
 * Issue 13's goals, each as the number this run measured next to its reference from the same
 * run. A goal whose cases were not run (or did not give a trustworthy number) is "not measured".
 * The through-Envoy, distinct-token and warm goals are reported once per transport.
 */
export interface Goal {
  readonly goal: string;
  readonly transport: GoalTransport;
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

/** `; <label> N/s` for a side reference, when its case ran. */
const also = (name: string, find: Find, label = name) => {
  const c = find(name);
  return c ? `; ${label} ${k(c.load.rps)}/s` : '';
};

/**
 * The references in jwtexchange's place behind the same Envoy (through-envoy.ts), per transport:
 * bare Node servers answering a fixed allow (the hop alone; over gRPC with the sidecar's own
 * listener and with node:http2 alone) and OPA; `show` formats a reference case that ran.
 */
const REFERENCES: Record<GoalTransport, readonly (readonly [string, string])[]> = {
  HTTP: [
    ['envoy-bare-http', 'bare Node HTTP'],
    ['envoy-opa', 'OPA'],
  ],
  gRPC: [
    ['envoy-bare-lean', 'bare gRPC listener'],
    ['envoy-bare-h2', 'bare node:http2'],
    ['envoy-opa', 'OPA'],
  ],
  '': [],
};
const references = (
  find: Find,
  t: GoalTransport,
  load: number | undefined,
  show: (c: MeasuredCase) => string,
) =>
  REFERENCES[t]
    .map(([base, label]) => {
      const c = find(`${base}${load ? `@${load}` : ''}`);
      return c ? `; ${label} ${show(c)}` : '';
    })
    .join('');

const missing = (goal: string, transport: GoalTransport, target: string, why: string): Goal => ({
  goal,
  transport,
  value: 'not measured',
  reference: why,
  target,
  met: undefined,
});

/** The case names of one transport: gRPC's have no suffix, HTTP's end in `-http`. */
const named = (transport: GoalTransport) => (base: string, load?: number) =>
  `${base}${transport === 'HTTP' ? '-http' : ''}${load ? `@${load}` : ''}`;

function envoyAt1000(find: Find, t: GoalTransport): Goal {
  const name = named(t)('envoy-ext-authz', 1000);
  const [e, j] = [find(name), find('envoy-jwt-authn@1000')];
  const goal = 'through Envoy, 1,000 req/s: p99 added over jwt_authn';
  const target = 'added p99 ≤ 1 ms';
  if (!e || !j)
    return missing(goal, t, target, `${name} / envoy-jwt-authn@1000 not run or invalid`);
  const added = e.load.latencyMs.p99 - j.load.latencyMs.p99;
  return {
    goal,
    transport: t,
    value: `+${f2(added)} ms (p99 ${f2(e.load.latencyMs.p99)} ms)`,
    reference: `jwt_authn p99 ${f2(j.load.latencyMs.p99)} ms${references(find, t, 1000, (c) => `+${f2(c.load.latencyMs.p99 - j.load.latencyMs.p99)} ms`)}`,
    target,
    met: added <= 1,
  };
}

function envoyAt3000(find: Find, t: GoalTransport): Goal {
  const name = named(t)('envoy-ext-authz', 3000);
  const [e, j] = [find(name), find('envoy-jwt-authn@3000')];
  const goal = 'through Envoy, 3,000 req/s: errors, p99';
  const target = 'no errors, p99 ≤ 3× jwt_authn';
  if (!e || !j)
    return missing(
      goal,
      t,
      target,
      `${name} / envoy-jwt-authn@3000 not run, or answers other than 200`,
    );
  return {
    goal,
    transport: t,
    value: `0 errors, p99 ${f2(e.load.latencyMs.p99)} ms (${f2(e.load.latencyMs.p99 / j.load.latencyMs.p99)}×)`,
    reference: `jwt_authn p99 ${f2(j.load.latencyMs.p99)} ms${references(find, t, 3000, (c) => `p99 ${f2(c.load.latencyMs.p99)} ms`)}`,
    target,
    met: e.load.latencyMs.p99 <= 3 * j.load.latencyMs.p99,
  };
}

function envoyClosed(find: Find, t: GoalTransport): Goal {
  const name = named(t)('envoy-ext-authz');
  const [e, j] = [find(name), find('envoy-jwt-authn')];
  const goal = 'through Envoy, closed loop: requests/s';
  const target = '≥ 0.8× jwt_authn';
  if (!e || !j) return missing(goal, t, target, `${name} / envoy-jwt-authn not run or invalid`);
  return {
    goal,
    transport: t,
    value: `${k(e.load.rps)}/s (${f2(e.load.rps / j.load.rps)}×)`,
    reference: `jwt_authn ${k(j.load.rps)}/s${also('envoy-none', find, 'no auth')}${references(find, t, undefined, (c) => `${k(c.load.rps)}/s (${f2(c.load.rps / j.load.rps)}×)`)}`,
    target,
    met: e.load.rps >= 0.8 * j.load.rps,
  };
}

/** Against the OPA reference, which speaks gRPC only (as opa-envoy-plugin does). */
function distinct(find: Find, t: GoalTransport): Goal {
  const name = named(t)('inbound-distinct');
  const d = find(name);
  const opa = find('opa-distinct');
  const goal = 'distinct tokens, one pinned core';
  const target = '≥ 5,000/s per core and ≥ 1.8× OPA';
  if (!d) return missing(goal, t, target, `${name} not run or invalid`);
  const over = t === 'HTTP' ? ' (gRPC: it has no HTTP mode)' : '';
  return {
    goal,
    transport: t,
    value: `${k(d.load.rps)}/s${opa ? ` (${f2(d.load.rps / opa.load.rps)}× OPA)` : ''}; ${f1(d.cpuUsPerCall ?? NaN)} µs CPU/check`,
    reference: opa
      ? `OPA${over} ${k(opa.load.rps)}/s; ${f1(opa.cpuUsPerCall ?? NaN)} µs CPU/check`
      : 'OPA reference not run (scripts/setup-tools.sh opa-ref)',
    target,
    met: d.load.rps >= 5000 && (opa ? d.load.rps >= 1.8 * opa.load.rps : false),
  };
}

/** Each transport's warm ceiling: the same listener doing no work (bench/cases/bare.ts). */
const ceilingOf = (t: GoalTransport) => (t === 'HTTP' ? 'bare-http' : 'bare');

/** Each transport against its own ceiling (ceilingOf). */
function warm(find: Find, t: GoalTransport): Goal {
  const [name, ceiling] = [named(t)('inbound-warm'), ceilingOf(t)];
  const [w, b] = [find(name), find(ceiling)];
  const goal = 'warm checks, one pinned core';
  const target = `≥ 0.9× ${ceiling} (median), no round < 0.85`;
  if (!w || !b) return missing(goal, t, target, `${name} / ${ceiling} not run or invalid`);
  const rounds = (w.roundsRps ?? [w.load.rps]).map((r, i) => r / (b.roundsRps ?? [b.load.rps])[i]!);
  const median = w.load.rps / b.load.rps;
  return {
    goal,
    transport: t,
    value: `${k(w.load.rps)}/s (${f2(median)}×; rounds ${rounds.map(f2).join(' / ')})`,
    reference:
      t === 'HTTP'
        ? `bare-http ${k(b.load.rps)}/s`
        : `bare ${k(b.load.rps)}/s${also('bare-lean', find)}${also('bare-grpcjs', find, 'grpc-js')}`,
    target,
    met: median >= 0.9 && rounds.every((r) => r >= 0.85),
  };
}

/**
 * The same goal from `warm-paired*`: both servers on one pinned CPU, the load alternating between
 * them in short slices, so the machine's drift between two long runs does not enter the ratio.
 */
function warmInPairs(find: Find, t: GoalTransport): Goal {
  const [name, ceiling] = [named(t)('warm-paired'), ceilingOf(t)];
  const goal = 'warm checks, one pinned core, in pairs';
  const target = `≥ 0.9× ${ceiling} (median pair), no pair < 0.85`;
  const p = find(name);
  if (!p) return missing(goal, t, target, `${name} not run or invalid`);
  const [medianRatio, minRatio] = [Number(p.extras.medianRatio), Number(p.extras.minRatio)];
  // Two identical bare servers paired the same way: what the machine alone does to a pair.
  const floor = find(`${name}-floor`);
  return {
    goal,
    transport: t,
    value: `${f2(medianRatio)}× (pairs ${String(p.extras.pairRatios)})`,
    reference:
      `CPU per check ${f2(Number(p.extras.medianCpuRatio))}× ${ceiling}'s (median pair)` +
      (floor
        ? `; ${ceiling} against itself: median ${f2(Number(floor.extras.medianRatio))}×, lowest pair ${f2(Number(floor.extras.minRatio))}`
        : ''),
    target,
    met: medianRatio >= 0.9 && minRatio >= 0.85,
  };
}

const MEMORY_TARGET = 'RSS ≤ 150 MiB';

/** Memory with `server.workers: auto`, the server's default: the CPU limit, 1 without one. */
function memoryAuto(find: Find): Goal {
  const m = find('memory-churn');
  const goal = 'memory after distinct-token churn, workers: auto';
  if (!m) return missing(goal, 'gRPC', MEMORY_TARGET, 'memory-churn not run');
  const e = m.extras;
  return {
    goal: `${goal} (${e.processes} process${e.processes === 1 ? '' : 'es'} here)`,
    transport: 'gRPC',
    value: `RSS ${e.rssMiB} MiB (pod charged ≈ ${e.podChargedMiB} MiB, largest process ${e.largestProcessMiB} MiB)`,
    reference:
      'auto: the CPU limit (1 without one), no more than the memory limit holds (256Mi: one process)',
    target: MEMORY_TARGET,
    met: Number(e.rssMiB) <= 150,
  };
}

/** Memory with the Helm chart's default, `jwtexchange.workers: 1`: what a pod of it runs. */
function memoryChart(find: Find): Goal {
  const m = find('memory-churn-1w');
  const goal = "memory after distinct-token churn, the chart's workers: 1";
  if (!m) return missing(goal, 'gRPC', MEMORY_TARGET, 'memory-churn-1w not run');
  return {
    goal,
    transport: 'gRPC',
    value: `RSS ${m.extras.rssMiB} MiB`,
    reference: 'the chart requests 160Mi and limits 256Mi',
    target: MEMORY_TARGET,
    met: Number(m.extras.rssMiB) <= 150,
  };
}

function scaling(find: Find): Goal {
  const [one, two] = [find('scale-1w'), find('scale-2w')];
  const target = 'more with 2 workers (2 cores, shared with the load generator)';
  if (!one || !two) return missing('workers 1 → 2', 'gRPC', target, 'scale-1w / scale-2w not run');
  return {
    goal: 'workers 1 → 2, warm checks, unpinned',
    transport: 'gRPC',
    value: `${k(two.load.rps)}/s (${f2(two.load.rps / one.load.rps)}×)`,
    reference: `1 worker ${k(one.load.rps)}/s`,
    target,
    met: two.load.rps > one.load.rps,
  };
}

function start(find: Find): Goal {
  const s = find('start');
  const target = '≤ 0.6 s';
  if (!s) return missing('start → gRPC health SERVING', '', target, 'start not run');
  return {
    goal: 'start → gRPC health SERVING, embedded default',
    transport: '',
    value: `${(s.load.latencyMs.p50 / 1000).toFixed(2)} s (runs ${String(s.extras.starts)} ms)`,
    reference: 'issue 13: 1.47 s (health flipped on a 1 s timer)',
    target,
    met: s.load.latencyMs.p50 <= 600,
  };
}

export function evaluateGoals(results: readonly CaseResult[]): Goal[] {
  const find = finder(results);
  const both = (goal: (find: Find, t: GoalTransport) => Goal) => [
    goal(find, 'gRPC'),
    goal(find, 'HTTP'),
  ];
  return [
    ...both(envoyAt1000),
    ...both(envoyAt3000),
    ...both(envoyClosed),
    ...both(distinct),
    ...both(warm),
    ...both(warmInPairs),
    memoryAuto(find),
    memoryChart(find),
    scaling(find),
    start(find),
  ];
}

export function formatGoals(goals: readonly Goal[]): string {
  const rows = goals.map((g) => [
    g.goal,
    g.transport,
    g.value,
    g.reference,
    g.target,
    g.met === undefined ? '-' : g.met ? 'met' : 'NOT met',
  ]);
  const header = [
    'goal (issue 13)',
    'ext_authz',
    'jwtexchange',
    'reference, same run',
    'target',
    'verdict',
  ];
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((r) => r[i]!.length)));
  const line = (r: string[]) =>
    r
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}
