import { measure } from '../lib/measure.js';
import { counterDelta } from '../lib/prom-text.js';
import { hitRatio, measured, type BenchCase } from './case.js';
import { VERIFIED_CACHE_METRIC, withJwtexchange } from './jwtexchange-server.js';

/**
 * The hot path as Envoy drives it in steady state: the same caller token again and again, so
 * every check after the first is a verified-token cache hit (no signature verification).
 */
export const inboundWarmCase: BenchCase = {
  name: 'inbound-warm',
  summary: 'inbound check, one token repeated: verified-token cache hit on every call (h2load)',
  async run(ctx) {
    const bodies = await ctx.fixtures.warmInbound();
    const { result: m, profile } = await withJwtexchange(ctx, this.name, {}, (server) =>
      measure({
        server,
        generator: 'h2load',
        bodies,
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
