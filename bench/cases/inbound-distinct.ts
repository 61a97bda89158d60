import { vegetaBinary } from '../lib/http-load.js';
import type { LoadPlan } from '../lib/measure.js';
import { skipped, type BenchCase, type CaseContext } from './case.js';
import { measureInbound, VERIFIED_CACHE_SIZE } from './jwtexchange-server.js';

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
      return measureInbound(ctx, this, await plan(ctx), ['x-jwtauth-subject'], {
        distinctTokens: ctx.distinctTokens,
      });
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
