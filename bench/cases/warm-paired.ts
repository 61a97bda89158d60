import path from 'node:path';
import { SERVER_NODE_FLAGS } from '../../src/server/node-flags.js';
import { measure, type LoadPlan, type Measurement } from '../lib/measure.js';
import { startBareServer, withServer, type ServerUnderTest } from '../lib/servers.js';
import { measured, type BenchCase, type CaseContext, type CaseResult } from './case.js';
import { warmLoad, withJwtexchange } from './jwtexchange-server.js';

/** Pairs of slices per case, and one slice's load: long enough for h2load, short against drift. */
const PAIRS = 5;
const SLICE = { warmupSeconds: 1, durationSeconds: 2 };

/**
 * The warm goal measured in pairs. `bare` / `inbound-warm` run one after the other for 12 s each,
 * and this machine's speed drifts by a third between such runs (bench/README.md), so one round's
 * ratio says as much about the machine as about the check. Here the bare ceiling and jwtexchange
 * run side by side, pinned to the same CPU, and the same load alternates between them in short
 * slices (bare first in even pairs, jwtexchange first in odd ones, so a trend cancels out). Each
 * pair's ratio compares two slices a few seconds apart. The bare server runs with the server's V8
 * flags (src/server/node-flags.ts), so a pair differs by the check alone. Every slice's answers
 * are checked as in any case.
 *
 * The `-floor` cases pair the bare server with a second one, the same way: what the pairs of two
 * identical servers give is what the machine alone does to a pair ratio, the reference beside
 * the goal's "no pair under 0.85".
 */
type Candidate = 'jwtexchange' | 'bare';

function warmPaired(
  name: string,
  transport: 'grpc' | 'http',
  summary: string,
  candidate: Candidate = 'jwtexchange',
): BenchCase {
  return { name, summary, run: (ctx) => runPaired({ name, summary }, transport, candidate, ctx) };
}

export const warmPairedCase = warmPaired(
  'warm-paired',
  'grpc',
  `inbound-warm against bare in ${PAIRS} pairs of alternating ${SLICE.durationSeconds} s slices, both pinned to the same CPU (h2load)`,
);
export const warmPairedHttpCase = warmPaired(
  'warm-paired-http',
  'http',
  `inbound-warm-http against bare-http the same way (h2load --h1)`,
);
export const warmPairedFloorCase = warmPaired(
  'warm-paired-floor',
  'grpc',
  'the machine alone: bare against a second bare server, paired the same way (h2load)',
  'bare',
);
export const warmPairedHttpFloorCase = warmPaired(
  'warm-paired-http-floor',
  'http',
  'the machine alone: bare-http against a second bare-http server, paired the same way (h2load --h1)',
  'bare',
);

async function runPaired(
  c: { name: string; summary: string },
  transport: 'grpc' | 'http',
  candidate: Candidate,
  ctx: CaseContext,
): Promise<CaseResult> {
  const load = await warmLoad(ctx, transport);
  const kind = transport === 'http' ? 'http' : 'generic';
  const bareServer = (suffix: string) =>
    startBareServer(
      path.join(ctx.resultsDir, `${c.name}-${suffix}.log`),
      SERVER_NODE_FLAGS,
      kind,
      ctx.cpus.server,
    );
  const pairs = await withServer(bareServer('bare'), async (bare) =>
    candidate === 'bare'
      ? withServer(bareServer('bare-2'), (other) => slices(ctx, load, bare, other))
      : (await withJwtexchange(ctx, c.name, {}, (app) => slices(ctx, load, bare, app))).result,
  );
  return paired(c, pairs);
}

/** One pair of slices: the bare server's and the candidate's (jwtexchange, or the second bare). */
interface Pair {
  readonly bare: Measurement;
  readonly candidate: Measurement;
}

async function slices(
  ctx: CaseContext,
  load: LoadPlan,
  bare: ServerUnderTest,
  candidate: ServerUnderTest,
): Promise<Pair[]> {
  const slice = (server: ServerUnderTest) =>
    measure({
      server,
      ...load,
      expect: { ok: true, setsHeaders: ['x-jwtauth-subject'] },
      settings: { ...ctx.settings, ...SLICE },
      scratchDir: ctx.resultsDir,
      generatorCpus: ctx.cpus.generator,
    });
  const servers = { bare, candidate };
  const pairs: Pair[] = [];
  for (let i = 0; i < PAIRS; i++) {
    const order = i % 2 === 0 ? (['bare', 'candidate'] as const) : (['candidate', 'bare'] as const);
    const pair: Partial<Record<keyof Pair, Measurement>> = {};
    for (const who of order) pair[who] = await slice(servers[who]);
    pairs.push(pair as Pair);
  }
  return pairs;
}

const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/**
 * The case's figures are those of the median pair's candidate slice; extras hold every pair's
 * ratio (checks/s, candidate ÷ bare), their median and minimum, both servers' CPU per check in
 * every pair (`cpuUsPerCheck` is the candidate's), and the median CPU-per-check ratio.
 */
function paired(c: { name: string; summary: string }, pairs: readonly Pair[]): CaseResult {
  const ratios = pairs.map((p) => p.candidate.load.rps / p.bare.load.rps);
  const cpu = pairs.map((p) => p.candidate.serverCpuUsPerCall / p.bare.serverCpuUsPerCall);
  const mid = ratios.indexOf(median(ratios));
  const result = measured(c, pairs[mid]!.candidate, {
    pairRatios: ratios.map((r) => r.toFixed(2)).join(' / '),
    medianRatio: Number(median(ratios).toFixed(3)),
    minRatio: Number(Math.min(...ratios).toFixed(3)),
    medianCpuRatio: Number(median(cpu).toFixed(3)),
    cpuUsPerCheck: pairs.map((p) => p.candidate.serverCpuUsPerCall.toFixed(1)).join(' / '),
    bareCpuUsPerCheck: pairs.map((p) => p.bare.serverCpuUsPerCall.toFixed(1)).join(' / '),
  });
  const problems = pairs.flatMap((p, i) => [
    ...p.bare.problems.map((x) => `pair ${i + 1}, bare: ${x}`),
    ...p.candidate.problems.map((x) => `pair ${i + 1}: ${x}`),
  ]);
  return { ...result, problems };
}
