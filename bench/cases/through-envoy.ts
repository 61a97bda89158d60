import path from 'node:path';
import type { RunningEnvoy } from '../../test/helpers/envoy.js';
import { startBenchEnvoy, type CheckTransport, type EnvoyVariant } from '../lib/envoy-setup.js';
import { runH2loadHttp1, runVegeta, vegetaBinary, type HttpLoadResult } from '../lib/http-load.js';
import type { ProfileSummary } from '../lib/cpu-profile.js';
import type { LoadResult } from '../lib/load-result.js';
import { treeCpuMicros } from '../lib/proc.js';
import { opaMissing, startOpa } from '../lib/opa-server.js';
import { checkPort, startBareServer, type BareKind, type ServerUnderTest } from '../lib/servers.js';
import { skipped, type BenchCase, type CaseContext, type CaseResult } from './case.js';
import { startJwtexchange } from './jwtexchange-server.js';

/** Closed loop (h2load, HTTP/1.1 connections) or open loop at a fixed rate (vegeta). */
export type EnvoyLoad = 'closed' | number;

/**
 * The ext_authz server behind Envoy: jwtexchange, or a reference in its place — a bare server
 * answering a fixed allow, what any Node ext_authz server pays for the hop (`bare-http`: Node's
 * HTTP server; `bare-lean`: jwtexchange's own gRPC listener and codec; `bare-h2`: node:http2
 * alone, no gRPC server), or the OPA reference (Go, gRPC, verifying the token).
 */
export type AuthzServer = 'jwtexchange' | 'opa' | `bare-${BareReference}`;
type BareReference = Extract<BareKind, 'http' | 'lean' | 'h2'>;

/** The transport a reference speaks: the bare HTTP server HTTP, the others gRPC. */
const referenceTransport = (authz: Exclude<AuthzServer, 'jwtexchange'>): CheckTransport =>
  authz === 'bare-http' ? 'http' : 'grpc';

const PATH = '/v2/namespaces';

/**
 * Through Envoy, as deployed: a client → Envoy (the shipped envoy/ingress.yaml, 2 worker
 * threads) → the same trivial upstream, with no auth, with Envoy's own jwt_authn, or with
 * ext_authz → jwtexchange (`server.workers: 1`, the chart's; envoyCaseWorkers). The ext_authz
 * variant runs over either transport: gRPC (envoy/ingress.yaml) or HTTP (envoy/ingress-http.yaml,
 * case names with `-http`), and with a reference server in jwtexchange's place (`envoy-bare-http`,
 * `envoy-opa`). Nothing is pinned: Envoy, the ext_authz server and the load generator share the
 * machine like a pod's containers. Every request carries the same valid token; every answer is
 * counted by status, and a 200 means the upstream saw the verified subject header.
 */
export function throughEnvoyCase(
  variant: EnvoyVariant,
  load: EnvoyLoad,
  transport: CheckTransport = 'grpc',
  authz: AuthzServer = 'jwtexchange',
): BenchCase {
  const suffix = transport === 'http' ? '-http' : '';
  const base = authz === 'jwtexchange' ? `envoy-${variant}${suffix}` : `envoy-${authz}`;
  const name = `${base}${load === 'closed' ? '' : `@${load}`}`;
  const how =
    load === 'closed' ? 'closed loop, h2load HTTP/1.1' : `${load} req/s open loop, vegeta`;
  const behind: Record<AuthzServer, string> = {
    jwtexchange: `ext_authz (${transport === 'http' ? 'HTTP' : 'gRPC'}) → jwtexchange (workers: ${envoyCaseWorkers()})`,
    'bare-http': 'ext_authz (HTTP) → bare Node HTTP server (fixed allow)',
    'bare-lean': "ext_authz (gRPC) → the sidecar's bare gRPC listener, lean codec (fixed allow)",
    'bare-h2': 'ext_authz (gRPC) → bare node:http2 server, no gRPC server (fixed allow)',
    opa: 'ext_authz (gRPC) → OPA reference',
  };
  const auth = { none: 'no auth', 'jwt-authn': 'jwt_authn', 'ext-authz': behind[authz] };
  return {
    name,
    summary: `${authz === 'jwtexchange' ? '' : 'reference: '}through Envoy, ${auth[variant]}: ${how}`,
    run(ctx) {
      const cannot =
        load !== 'closed' && !vegetaBinary()
          ? 'vegeta is not installed: run `scripts/setup-tools.sh vegeta`'
          : authz === 'opa'
            ? opaMissing()
            : undefined;
      if (cannot) return Promise.resolve(skipped(this, cannot));
      return runThroughEnvoy({ name, summary: this.summary }, variant, load, transport, authz, ctx);
    },
  };
}

interface StartedAuthz {
  readonly server: ServerUnderTest;
  /** Stops it; jwtexchange returns its CPU profile summary under --profile. */
  stop(): Promise<ProfileSummary | undefined>;
}

/** Starts the ext_authz server of an ext_authz case, unpinned. */
async function startAuthz(
  ctx: CaseContext,
  name: string,
  authz: AuthzServer,
): Promise<StartedAuthz> {
  if (authz === 'jwtexchange')
    return startJwtexchange(ctx, name, {}, { workers: envoyCaseWorkers(), pin: false });
  const log = path.join(ctx.resultsDir, `${name}.log`);
  const server =
    authz !== 'opa'
      ? await startBareServer(log, [], authz.slice('bare-'.length) as BareReference)
      : await startOpa(
          await ctx.fixtures.issuer(),
          { data: path.join(ctx.fixtures.workDir, `${name}-data.json`), log },
          undefined,
        );
  return { server, stop: () => server.stop().then(() => undefined) };
}

/** A reference in jwtexchange's place behind the same Envoy, over the transport it speaks. */
export const envoyReferenceCase = (
  load: EnvoyLoad,
  authz: Exclude<AuthzServer, 'jwtexchange'>,
): BenchCase => throughEnvoyCase('ext-authz', load, referenceTransport(authz), authz);

async function runThroughEnvoy(
  c: { name: string; summary: string },
  variant: EnvoyVariant,
  load: EnvoyLoad,
  transport: CheckTransport,
  authz: AuthzServer,
  ctx: CaseContext,
): Promise<CaseResult> {
  const issuer = await ctx.fixtures.issuer();
  const token = await ctx.fixtures.warmToken();
  const app = variant === 'ext-authz' ? await startAuthz(ctx, c.name, authz) : undefined;
  let envoy: RunningEnvoy | undefined;
  let measuredCase: CaseResult;
  let profile: ProfileSummary | undefined;
  try {
    const started = await startBenchEnvoy(
      variant,
      issuer,
      app ? checkPort(app.server, transport) : undefined,
      transport,
    );
    envoy = started.envoy;
    const url = `http://127.0.0.1:${started.port}${PATH}`;
    const problems = await sample(url, token, anonymousStatus(variant, authz));
    const counts = app && app.server.countsDecisions !== false;
    const before = counts ? await app.server.stats() : undefined;
    const cpuBefore = app ? treeCpuMicros(app.server.pid) : 0;
    const envoyCpuBefore = treeCpuMicros(envoy.pid);
    const seconds = { warmup: ctx.settings.warmupSeconds, measured: measuredSeconds(ctx, load) };
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
    const envoyCpu = treeCpuMicros(envoy.pid) - envoyCpuBefore;
    const after = counts ? await app.server.stats() : undefined;
    problems.push(...countProblems(result, before?.ok, after?.ok));
    if (load !== 'closed') problems.push(...rateProblems(result, load, seconds.measured));
    // CPU per request of the ext_authz server and of Envoy, warm-up included (same rate).
    const calls = (result.completed * (seconds.warmup + seconds.measured)) / seconds.measured;
    const extras: Record<string, number> = {
      envoyCpuUs: Math.round((10 * envoyCpu) / calls) / 10,
      ...(variant === 'ext-authz' ? { extAuthzErrors: await extAuthzErrors(envoy) } : {}),
    };
    measuredCase = toCase(c, result, load, problems, cpu / calls, extras);
  } finally {
    await envoy?.stop();
    // Stopping the server writes its CPU profile under --profile.
    profile = await app?.stop();
  }
  return { ...measuredCase, ...(profile ? { profile } : {}) };
}

/**
 * At 3,000 req/s on two shared cores one stall of ~100 ms (a JIT tier-up, the scheduler) delays
 * 300 requests: the p99 of a 10 s window by itself. Three times as long shows whether stalls recur
 * (bench/README.md, twelfth session).
 */
function measuredSeconds(ctx: CaseContext, load: EnvoyLoad): number {
  return load !== 'closed' && load >= 3000
    ? 3 * ctx.settings.durationSeconds
    : ctx.settings.durationSeconds;
}

/**
 * What a request without a token gets: no auth and the bare servers (which allow all) pass it;
 * OPA's policy denies with 403; jwt_authn and jwtexchange challenge with 401.
 */
function anonymousStatus(variant: EnvoyVariant, authz: AuthzServer): number {
  if (variant === 'none') return 200;
  if (variant === 'jwt-authn') return 401;
  return authz === 'jwtexchange' ? 401 : authz === 'opa' ? 403 : 200;
}

/** Before measuring: the token passes, and without it the answer is the variant's own. */
async function sample(url: string, token: string, anonymous: number): Promise<string[]> {
  const problems: string[] = [];
  const ok = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
  if (ok.status !== 200) problems.push(`sample: a valid token got ${ok.status}`);
  const none = await fetch(url);
  if (none.status !== anonymous)
    problems.push(`sample: no token got ${none.status}, not ${anonymous}`);
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
    problems.push(
      `the ext_authz server counted ${okAfter - okBefore} allows for ${r.completed} answers`,
    );
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
function extAuthzErrors(envoy: RunningEnvoy): Promise<number> {
  return envoy.counter('http.ingress.ext_authz.error');
}

function toCase(
  c: { name: string; summary: string },
  r: HttpLoadResult,
  load: EnvoyLoad,
  problems: string[],
  cpuUsPerCall: number,
  extras: Record<string, number>,
): CaseResult {
  const result: LoadResult = {
    generator: r.generator,
    completed: r.completed,
    failed: r.failed,
    seconds: r.completed / r.rps,
    rps: r.rps,
    ...(load === 'closed' ? {} : { fixedRate: load }),
    latencyMs: r.latencyMs,
  };
  return {
    kind: 'measured',
    name: c.name,
    summary: c.summary,
    load: result,
    served: { ok: r.completed, denied: 0 },
    problems,
    extras,
    ...(Number.isFinite(cpuUsPerCall) ? { cpuUsPerCall } : {}),
  };
}

/**
 * `server.workers` of the ext_authz cases: 1, as the Helm chart runs it (a pod's cores are Envoy's
 * too: bench/README.md, twelfth session), or JWTX_BENCH_ENVOY_WORKERS (a number, or `auto`).
 */
export function envoyCaseWorkers(): number | 'auto' {
  const v = process.env.JWTX_BENCH_ENVOY_WORKERS;
  if (v === 'auto') return 'auto';
  const n = Number(v);
  return Number.isInteger(n) && n > 0 ? n : 1;
}
