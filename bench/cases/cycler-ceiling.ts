import path from 'node:path';
import { vegetaBinary } from '../lib/http-load.js';
import { measure } from '../lib/measure.js';
import { startBareServer, withServer } from '../lib/servers.js';
import { measured, skipped, type BenchCase } from './case.js';

/**
 * The h2-cycler's own ceiling: it drives the bare server with the distinct-token bodies. The
 * distinct-token case is only meaningful while it stays well below this number.
 */
export const cyclerCeilingCase: BenchCase = {
  name: 'cycler-ceiling',
  summary: 'load generator check: the h2-cycler against the bare server (its own ceiling)',
  async run(ctx) {
    const bodies = await ctx.fixtures.distinctInbound(ctx.distinctTokens);
    const logFile = path.join(ctx.resultsDir, 'cycler-ceiling.log');
    return withServer(startBareServer(logFile, [], 'generic', ctx.cpus.server), async (server) =>
      measured(
        this,
        await measure({
          server,
          generator: 'h2-cycler',
          bodies,
          expect: { ok: true },
          settings: ctx.settings,
          scratchDir: ctx.resultsDir,
          generatorCpus: ctx.cpus.generator,
        }),
      ),
    );
  },
};

/**
 * The same for vegeta, the generator of inbound-distinct-http: closed loop with the distinct-token
 * HTTP requests against the bare HTTP server. Where it comes close to bare-http (h2load --h1), the
 * server is the limit, not vegeta.
 */
export const vegetaCeilingCase: BenchCase = {
  name: 'vegeta-ceiling',
  summary: 'load generator check: vegeta (closed loop) against the bare HTTP server',
  async run(ctx) {
    if (!vegetaBinary())
      return skipped(this, 'vegeta is not installed: run `scripts/setup-tools.sh vegeta`');
    const requests = await ctx.fixtures.distinctInboundHttp(ctx.distinctTokens);
    const logFile = path.join(ctx.resultsDir, 'vegeta-ceiling.log');
    return withServer(startBareServer(logFile, [], 'http', ctx.cpus.server), async (server) =>
      measured(
        this,
        await measure({
          server,
          generator: 'vegeta',
          requests,
          expect: { ok: true },
          settings: ctx.settings,
          scratchDir: ctx.resultsDir,
          generatorCpus: ctx.cpus.generator,
        }),
      ),
    );
  },
};
