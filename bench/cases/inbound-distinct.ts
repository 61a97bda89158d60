import { vegetaBinary } from '../lib/http-load.js';
import { measure, type LoadPlan } from '../lib/measure.js';
import { counterDelta } from '../lib/prom-text.js';
import { hitRatio, measured, skipped, type BenchCase, type CaseContext } from './case.js';
import {
  VERIFIED_CACHE_METRIC,
  VERIFIED_CACHE_SIZE,
  withJwtexchange,
} from './jwtexchange-server.js';

/**
 * The cold path: every check carries a token the cache does not hold, so each one pays a full
 * ES256 verification. The tokens are cycled round-robin and outnumber the LRU cache, so a token
 * is always evicted before it comes round again; the hit ratio printed proves it (≈ 0). Over
 * gRPC (the h2-cycler) or over the HTTP listener (`-http`: vegeta in closed loop, the same
 * tokens, one check in flight per HTTP/1.1 connection).
 */
function inboundDistinct(name: string, transport: 'grpc' | 'http', summary: string): BenchCase {
  const plan = async (ctx: CaseContext): Promise<LoadPlan> =>
    transport === 'http'
      ? {
          generator: 'vegeta',
          requests: await ctx.fixtures.distinctInboundHttp(ctx.distinctTokens),
        }
      : { generator: 'h2-cycler', bodies: await ctx.fixtures.distinctInbound(ctx.distinctTokens) };
  return {
    name,
    summary,
    async run(ctx) {
      if (ctx.distinctTokens <= VERIFIED_CACHE_SIZE) {
        throw new Error(
          `--distinct-tokens must exceed the verified cache size (${VERIFIED_CACHE_SIZE}), or tokens would hit`,
        );
      }
      if (transport === 'http' && !vegetaBinary())
        return skipped(this, 'vegeta is not installed: run `scripts/setup-tools.sh vegeta`');
      const load = await plan(ctx);
      const { result: m, profile } = await withJwtexchange(ctx, name, {}, (server) =>
        measure({
          server,
          ...load,
          expect: { ok: true, setsHeaders: ['x-jwtauth-subject'] },
          settings: ctx.settings,
          scratchDir: ctx.resultsDir,
          generatorCpus: ctx.cpus.generator,
        }),
      );
      const delta = (result: string) =>
        counterDelta(m.before.samples, m.after.samples, VERIFIED_CACHE_METRIC, { result });
      return measured(
        this,
        m,
        {
          verifiedCacheHitRatio: hitRatio(delta('hit'), delta('miss')),
          distinctTokens: ctx.distinctTokens,
        },
        profile,
      );
    },
  };
}

export const inboundDistinctCase = inboundDistinct(
  'inbound-distinct',
  'grpc',
  'inbound check, a different token every call: full ES256 verify each time (h2-cycler)',
);
export const inboundDistinctHttpCase = inboundDistinct(
  'inbound-distinct-http',
  'http',
  'as inbound-distinct, on the ext_authz HTTP listener (vegeta closed loop, a token per call)',
);
