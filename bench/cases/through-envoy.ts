import path from 'node:path';
import type { RunningEnvoy } from '../../test/helpers/envoy.js';
import { startBenchEnvoy, type CheckTransport, type EnvoyVariant } from '../lib/envoy-setup.js';
import { runH2loadHttp1, runVegeta, vegetaBinary, type HttpLoadResult } from '../lib/http-load.js';
import type { ProfileSummary } from '../lib/cpu-profile.js';
import type { LoadResult } from '../lib/load-result.js';
import { treeCpuMicros } from '../lib/proc.js';
import type { ServerUnderTest } from '../lib/servers.js';
import { skipped, type BenchCase, type CaseContext, type CaseResult } from './case.js';
import { startJwtexchange } from './jwtexchange-server.js';

/** Closed loop (h2load, HTTP/1.1 connections) or open loop at a fixed rate (vegeta). */
export type EnvoyLoad = 'closed' | number;

const PATH = '/v2/namespaces';

/**
 * Through Envoy, as deployed: a client → Envoy (the shipped envoy/ingress.yaml, 2 worker
 * threads) → the same trivial upstream, with no auth, with Envoy's own jwt_authn, or with
 * ext_authz → jwtexchange (`server.workers` left at its default: one per core). The ext_authz
 * variant runs over either transport: gRPC (envoy/ingress.yaml) or HTTP (envoy/ingress-http.yaml,
 * case names with `-http`). Nothing is
 * pinned: Envoy, jwtexchange and the load generator share the machine like a pod's containers.
 * Every request carries the same valid token; every answer is counted by status, and a 200 means
 * the upstream saw the verified subject header.
 */
export function throughEnvoyCase(
  variant: EnvoyVariant,
  load: EnvoyLoad,
  transport: CheckTransport = 'grpc',
): BenchCase {
  const suffix = transport === 'http' ? '-http' : '';
  const name = `envoy-${variant}${suffix}${load === 'closed' ? '' : `@${load}`}`;
  const how =
    load === 'closed' ? 'closed loop, h2load HTTP/1.1' : `${load} req/s open loop, vegeta`;
  const auth = {
    none: 'no auth',
    'jwt-authn': 'jwt_authn',
    'ext-authz': `ext_authz (${transport === 'http' ? 'HTTP' : 'gRPC'}) → jwtexchange`,
  };
  return {
    name,
    summary: `through Envoy, ${auth[variant]}: ${how}`,
    run(ctx) {
      if (load !== 'closed' && !vegetaBinary()) {
        return Promise.resolve(
          skipped(this, 'vegeta is not installed: run `scripts/setup-tools.sh vegeta`'),
        );
      }
      return runThroughEnvoy({ name, summary: this.summary }, variant, load, transport, ctx);
    },
  };
}

async function runThroughEnvoy(
  c: { name: string; summary: string },
  variant: EnvoyVariant,
  load: EnvoyLoad,
  transport: CheckTransport,
  ctx: CaseContext,
): Promise<CaseResult> {
  const issuer = await ctx.fixtures.issuer();
  const token = await ctx.fixtures.warmToken();
  const app =
    variant === 'ext-authz'
      ? await startJwtexchange(ctx, c.name, {}, { workers: envoyCaseWorkers(), pin: false })
      : undefined;
  let envoy: RunningEnvoy | undefined;
  let measuredCase: CaseResult;
  let profile: ProfileSummary | undefined;
  try {
    const started = await startBenchEnvoy(
      variant,
      issuer,
      app ? port(app.server, transport) : undefined,
      transport,
    );
    envoy = started.envoy;
    const url = `http://127.0.0.1:${started.port}${PATH}`;
    const problems = await sample(url, token, variant);
    const before = app ? await app.server.stats() : undefined;
    const cpuBefore = app ? treeCpuMicros(app.server.pid) : 0;
    const seconds = { warmup: ctx.settings.warmupSeconds, measured: ctx.settings.durationSeconds };
    const target = { url, headers: { authorization: `Bearer ${token}` } };
    const scratch = path.join(ctx.resultsDir, c.name);
    const result =
      load === 'closed'
        ? await runH2loadHttp1(
            target,
            4 * ctx.settings.connections * ctx.settings.streams,
            seconds,
            scratch,
          )
        : await runVegeta(target, load, seconds, scratch);
    const cpu = app ? treeCpuMicros(app.server.pid) - cpuBefore : NaN;
    const after = app ? await app.server.stats() : undefined;
    problems.push(...countProblems(result, before?.ok, after?.ok));
    if (load !== 'closed') problems.push(...rateProblems(result, load, seconds.measured));
    // jwtexchange's CPU per request, warm-up included (it ran at the same rate).
    const calls = (result.completed * (seconds.warmup + seconds.measured)) / seconds.measured;
    const extras: Record<string, number> =
      variant === 'ext-authz' ? { extAuthzErrors: await extAuthzErrors(envoy) } : {};
    measuredCase = toCase(c, result, problems, cpu / calls, extras);
  } finally {
    await envoy?.stop();
    // Stopping the server writes its CPU profile under --profile.
    profile = await app?.stop();
  }
  return { ...measuredCase, ...(profile ? { profile } : {}) };
}

const port = (s: ServerUnderTest, transport: CheckTransport) =>
  Number((transport === 'http' ? s.httpCheckAddress! : s.address).split(':').at(-1));

/** Before measuring: the token passes, and without it the auth variants answer 401. */
async function sample(url: string, token: string, variant: EnvoyVariant): Promise<string[]> {
  const problems: string[] = [];
  const ok = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
  if (ok.status !== 200) problems.push(`sample: a valid token got ${ok.status}`);
  const anonymous = await fetch(url);
  const want = variant === 'none' ? 200 : 401;
  if (anonymous.status !== want)
    problems.push(`sample: no token got ${anonymous.status}, not ${want}`);
  return problems;
}

function countProblems(r: HttpLoadResult, okBefore?: number, okAfter?: number): string[] {
  const problems: string[] = [];
  if (r.completed === 0) problems.push('no request completed');
  if (r.failed > 0) {
    const codes = Object.entries(r.statusCodes).filter(([code]) => code !== '200');
    problems.push(
      `${r.failed} answers were not 200 (${codes.map(([k, v]) => `${k}: ${v}`).join(', ')})`,
    );
  }
  if (okBefore !== undefined && okAfter !== undefined && okAfter - okBefore < r.completed) {
    problems.push(`jwtexchange counted ${okAfter - okBefore} allows for ${r.completed} answers`);
  }
  return problems;
}

/**
 * An open-loop number holds only at the rate asked: a generator starved of CPU sends fewer
 * requests (vegeta issues each on schedule or late), and every answer may still be a 200.
 */
function rateProblems(r: HttpLoadResult, rate: number, seconds: number): string[] {
  const sent = (r.completed + r.failed) / seconds;
  return sent < 0.95 * rate
    ? [`the generator sent ${Math.round(sent)} req/s of the ${rate} asked (it fell behind)`]
    : [];
}

/**
 * Envoy's own count of ext_authz errors (timeouts, RPC failures: 503 to the client) on the
 * ingress listener, warm-up included (the answers counted above are the measured window's).
 */
async function extAuthzErrors(envoy: RunningEnvoy): Promise<number> {
  const text = await envoy.stats('http.ingress.ext_authz.error');
  return Number(/http\.ingress\.ext_authz\.error: (\d+)/.exec(text)?.[1] ?? NaN);
}

function toCase(
  c: { name: string; summary: string },
  r: HttpLoadResult,
  problems: string[],
  cpuUsPerCall: number,
  extras: Record<string, number>,
): CaseResult {
  const load: LoadResult = {
    generator: r.generator,
    completed: r.completed,
    failed: r.failed,
    seconds: r.completed / r.rps,
    rps: r.rps,
    latencyMs: r.latencyMs,
  };
  return {
    kind: 'measured',
    name: c.name,
    summary: c.summary,
    load,
    served: { ok: r.completed, denied: 0 },
    problems,
    extras,
    ...(Number.isFinite(cpuUsPerCall) ? { cpuUsPerCall } : {}),
  };
}

/** `server.workers` of the ext_authz cases: auto, or JWTX_BENCH_ENVOY_WORKERS to compare. */
function envoyCaseWorkers(): number | 'auto' {
  const n = Number(process.env.JWTX_BENCH_ENVOY_WORKERS);
  return Number.isInteger(n) && n > 0 ? n : 'auto';
}
