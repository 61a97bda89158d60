import path from 'node:path';
import { measure } from '../lib/measure.js';
import { opaMissing, startOpa } from '../lib/opa-server.js';
import { measured, skipped, type BenchCase } from './case.js';

/**
 * The reference for `inbound-distinct`: OPA evaluating the same JWT verification (ES256 against
 * the same JWKS, iss, aud, exp; the subject as a header) on the same distinct tokens, converting
 * each CheckRequest to input as opa-envoy-plugin does, pinned to one core like jwtexchange.
 */
export const opaDistinctCase: BenchCase = {
  name: 'opa-distinct',
  summary:
    'reference: OPA (rego SDK, opa-envoy-plugin input) verifying the distinct tokens (h2-cycler)',
  async run(ctx) {
    const missing = opaMissing();
    if (missing) return skipped(this, missing);
    const issuer = await ctx.fixtures.issuer();
    const bodies = await ctx.fixtures.distinctInbound(ctx.distinctTokens);
    const server = await startOpa(
      issuer,
      {
        data: path.join(ctx.fixtures.workDir, 'opa-data.json'),
        log: path.join(ctx.resultsDir, 'opa-distinct.log'),
      },
      ctx.cpus.server,
    );
    try {
      const m = await measure({
        server,
        generator: 'h2-cycler',
        bodies,
        expect: { ok: true, setsHeaders: ['x-jwtauth-subject'] },
        settings: ctx.settings,
        scratchDir: ctx.resultsDir,
        generatorCpus: ctx.cpus.generator,
      });
      return measured(this, m, { distinctTokens: ctx.distinctTokens });
    } finally {
      await server.stop();
    }
  },
};
