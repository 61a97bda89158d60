import { measure } from '../lib/measure.js';
import { counterDelta } from '../lib/prom-text.js';
import { hitRatio, measured, type BenchCase } from './case.js';
import {
  VERIFIED_CACHE_METRIC,
  VERIFIED_CACHE_SIZE,
  withJwtexchange,
} from './jwtexchange-server.js';

/**
 * The cold path: every check carries a token the cache does not hold, so each one pays a full
 * ES256 verification. The tokens are cycled round-robin and outnumber the LRU cache, so a token
 * is always evicted before it comes round again; the hit ratio printed proves it (≈ 0).
 */
export const inboundDistinctCase: BenchCase = {
  name: 'inbound-distinct',
  summary: 'inbound check, a different token every call: full ES256 verify each time (h2-cycler)',
  async run(ctx) {
    if (ctx.distinctTokens <= VERIFIED_CACHE_SIZE) {
      throw new Error(
        `--distinct-tokens must exceed the verified cache size (${VERIFIED_CACHE_SIZE}), or tokens would hit`,
      );
    }
    const bodies = await ctx.fixtures.distinctInbound(ctx.distinctTokens);
    const { result: m, profile } = await withJwtexchange(ctx, this.name, {}, (server) =>
      measure({
        server,
        generator: 'h2-cycler',
        bodies,
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
