import { measure } from '../lib/measure.js';
import { measured, type BenchCase } from './case.js';
import { withJwtexchange } from './jwtexchange-server.js';

/**
 * The warm inbound check with `server.workers` 1 and 2 on the whole machine (unpinned; the load
 * generator shares the cores): how far a second worker takes the throughput. h2load opens 4
 * connections, which node:cluster hands to the workers in turn.
 */
function scalingCase(workers: number): BenchCase {
  return {
    name: `scale-${workers}w`,
    summary: `inbound warm with server.workers: ${workers}, unpinned, 4 connections (h2load)`,
    async run(ctx) {
      const bodies = await ctx.fixtures.warmInbound();
      const settings = {
        ...ctx.settings,
        connections: 4,
        streams: Math.max(1, ctx.settings.streams / 2),
      };
      const { result: m } = await withJwtexchange(
        ctx,
        this.name,
        {},
        (server) =>
          measure({
            server,
            generator: 'h2load',
            bodies,
            expect: { ok: true, setsHeaders: ['x-jwtauth-subject'] },
            settings,
            scratchDir: ctx.resultsDir,
          }),
        { workers, pin: false },
      );
      return measured(this, m, { workers });
    },
  };
}

export const scaleOneCase = scalingCase(1);
export const scaleTwoCase = scalingCase(2);
