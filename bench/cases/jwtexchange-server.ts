import path from 'node:path';
import { cpuProfFlags, summarizeProfile, type ProfileSummary } from '../lib/cpu-profile.js';
import { measure, type LoadPlan } from '../lib/measure.js';
import { counterDelta } from '../lib/prom-text.js';
import { startAppServer, type ServerUnderTest } from '../lib/servers.js';
import { hitRatio, measured, type CaseContext, type CaseResult } from './case.js';

/** The verified-token cache size the inbound cases configure (the shipped default). */
export const VERIFIED_CACHE_SIZE = 10_000;

export const VERIFIED_CACHE_METRIC = 'jwtexchange_verified_token_cache_total';

export interface StartedJwtexchange {
  readonly server: ServerUnderTest;
  /** Stops the server; returns the CPU profile summary when the context asked for one. */
  stop(): Promise<ProfileSummary | undefined>;
}

/**
 * The real server (`jwtexchange serve`) trusting the bench's dev issuer, plus any extra config
 * sections a case needs (e.g. `outbound`, `spicedb`). Logs go to bench/results/<name>.log; with
 * --profile it runs under `node --cpu-prof` and the profile lands next to the log.
 */
export async function startJwtexchange(
  ctx: CaseContext,
  name: string,
  extraConfig: Record<string, unknown> = {},
  /** Default: one worker, pinned to the server CPU (the per-core cases). */
  placement: { workers?: number | 'auto'; pin?: boolean } = {},
): Promise<StartedJwtexchange> {
  const profile = cpuProfFlags(ctx.resultsDir, name);
  const server = await startAppServer({
    name,
    config: {
      log: { level: 'info' },
      ...extraConfig,
      inbound: {
        ...(await ctx.fixtures.inboundConfig(VERIFIED_CACHE_SIZE)),
        ...(extraConfig.inbound as Record<string, unknown> | undefined),
      },
    },
    workDir: ctx.fixtures.workDir,
    logFile: path.join(ctx.resultsDir, `${name}.log`),
    nodeFlags: ctx.profile ? profile.flags : [],
    cpus: placement.pin === false ? undefined : ctx.cpus.server,
    workers: placement.workers ?? 1,
  });
  return {
    server,
    async stop() {
      await server.stop();
      return ctx.profile ? summarizeProfile(profile.dir) : undefined;
    },
  };
}

/** Starts the real server, runs fn against it, always stops it; returns fn's result + profile. */
export async function withJwtexchange<T>(
  ctx: CaseContext,
  name: string,
  extraConfig: Record<string, unknown>,
  fn: (server: ServerUnderTest) => Promise<T>,
  placement: { workers?: number | 'auto'; pin?: boolean } = {},
): Promise<{ result: T; profile: ProfileSummary | undefined }> {
  const app = await startJwtexchange(ctx, name, extraConfig, placement);
  let result: T;
  try {
    result = await fn(app.server);
  } catch (err) {
    await app.stop().catch(() => undefined);
    throw err;
  }
  return { result, profile: await app.stop() };
}

/** One valid token again and again, to the gRPC listener (h2load) or the HTTP one (h2load --h1). */
export async function warmLoad(ctx: CaseContext, transport: 'grpc' | 'http'): Promise<LoadPlan> {
  return transport === 'http'
    ? { generator: 'h2load-h1', requests: await ctx.fixtures.warmInboundHttp() }
    : { generator: 'h2load', bodies: await ctx.fixtures.warmInbound() };
}

/**
 * An inbound case: the real server under `load`, every answer an allow setting `setsHeaders`,
 * reported with the verified-cache hit ratio that proves which path it exercised.
 */
export async function measureInbound(
  ctx: CaseContext,
  c: { readonly name: string; readonly summary: string },
  load: LoadPlan,
  setsHeaders: readonly string[],
  extras: Record<string, number> = {},
): Promise<CaseResult> {
  const { result: m, profile } = await withJwtexchange(ctx, c.name, {}, (server) =>
    measure({
      server,
      ...load,
      expect: { ok: true, setsHeaders },
      settings: ctx.settings,
      scratchDir: ctx.resultsDir,
      generatorCpus: ctx.cpus.generator,
    }),
  );
  const delta = (result: string) =>
    counterDelta(m.before.samples, m.after.samples, VERIFIED_CACHE_METRIC, { result });
  return measured(
    c,
    m,
    { verifiedCacheHitRatio: hitRatio(delta('hit'), delta('miss')), ...extras },
    profile,
  );
}
