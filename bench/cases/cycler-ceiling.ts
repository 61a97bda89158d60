import path from 'node:path';
import { vegetaBinary } from '../lib/http-load.js';
import { measure, type LoadPlan } from '../lib/measure.js';
import { startBareServer, withServer, type BareKind } from '../lib/servers.js';
import { measured, skipped, type BenchCase, type CaseContext } from './case.js';

/**
 * A load generator's own ceiling: `plan` (the distinct-token load of a case) against the bare
 * server of the same transport, whose answers cost next to nothing.
 */
function generatorCeiling(
  c: { readonly name: string; readonly summary: string },
  kind: BareKind,
  plan: (ctx: CaseContext) => Promise<LoadPlan>,
  /** Why the case cannot run here (a generator not installed), if it cannot. */
  unavailable: () => string | undefined = () => undefined,
): BenchCase {
  return {
    ...c,
    async run(ctx) {
      const reason = unavailable();
      if (reason) return skipped(this, reason);
      const load = await plan(ctx);
      const logFile = path.join(ctx.resultsDir, `${c.name}.log`);
      return withServer(startBareServer(logFile, [], kind, ctx.cpus.server), async (server) =>
        measured(
          this,
          await measure({
            server,
            ...load,
            expect: { ok: true },
            settings: ctx.settings,
            scratchDir: ctx.resultsDir,
            generatorCpus: ctx.cpus.generator,
          }),
        ),
      );
    },
  };
}

/**
 * The h2-cycler's own ceiling: it drives the bare server with the distinct-token bodies. The
 * distinct-token case is only meaningful while it stays well below this number.
 */
export const cyclerCeilingCase: BenchCase = generatorCeiling(
  {
    name: 'cycler-ceiling',
    summary: 'load generator check: the h2-cycler against the bare server (its own ceiling)',
  },
  'generic',
  async (ctx) => ({
    generator: 'h2-cycler',
    bodies: await ctx.fixtures.distinctInbound(ctx.distinctTokens),
  }),
);

/**
 * The same for vegeta, the generator of inbound-distinct-http: closed loop with the distinct-token
 * HTTP requests against the bare HTTP server. Where it comes close to bare-http (h2load --h1), the
 * server is the limit, not vegeta.
 */
export const vegetaCeilingCase: BenchCase = generatorCeiling(
  {
    name: 'vegeta-ceiling',
    summary: 'load generator check: vegeta (closed loop) against the bare HTTP server',
  },
  'http',
  async (ctx) => ({
    generator: 'vegeta',
    requests: await ctx.fixtures.distinctInboundHttp(ctx.distinctTokens),
  }),
  () =>
    vegetaBinary() ? undefined : 'vegeta is not installed: run `scripts/setup-tools.sh vegeta`',
);
