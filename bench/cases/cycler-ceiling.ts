import path from 'node:path';
import { measure } from '../lib/measure.js';
import { startBareServer, withServer } from '../lib/servers.js';
import { measured, type BenchCase } from './case.js';

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
