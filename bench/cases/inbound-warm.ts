import { measure, type LoadPlan } from '../lib/measure.js';
import { counterDelta } from '../lib/prom-text.js';
import { hitRatio, measured, type BenchCase, type CaseContext } from './case.js';
import { VERIFIED_CACHE_METRIC, withJwtexchange } from './jwtexchange-server.js';

/**
 * The hot path as Envoy drives it in steady state: the same caller token again and again, so
 * every check after the first is a verified-token cache hit (no signature verification). Over
 * gRPC (h2load, HTTP/2 streams) or over the HTTP listener (`-http`: h2load --h1, one check in
 * flight per HTTP/1.1 connection, as Envoy's HTTP mode sends them).
 */
function inboundWarm(name: string, transport: 'grpc' | 'http', summary: string): BenchCase {
  const plan = async (ctx: CaseContext): Promise<LoadPlan> =>
    transport === 'http'
      ? { generator: 'h2load-h1', requests: await ctx.fixtures.warmInboundHttp() }
      : { generator: 'h2load', bodies: await ctx.fixtures.warmInbound() };
  return {
    name,
    summary,
    async run(ctx) {
      const load = await plan(ctx);
      const { result: m, profile } = await withJwtexchange(ctx, name, {}, (server) =>
        measure({
          server,
          ...load,
          expect: { ok: true, setsHeaders: ['x-jwtauth-subject', 'x-jwtauth-claims'] },
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
        { verifiedCacheHitRatio: hitRatio(delta('hit'), delta('miss')) },
        profile,
      );
    },
  };
}

export const inboundWarmCase = inboundWarm(
  'inbound-warm',
  'grpc',
  'inbound check, one token repeated: verified-token cache hit on every call (h2load)',
);
export const inboundWarmHttpCase = inboundWarm(
  'inbound-warm-http',
  'http',
  'as inbound-warm, on the ext_authz HTTP listener (h2load --h1, one check per connection)',
);
