import { measure } from '../lib/measure.js';
import { measured, type BenchCase } from './case.js';
import { withJwtexchange } from './jwtexchange-server.js';

const MiB = 1024 * 1024;

/**
 * Memory after sustained distinct-token churn with the default settings (`server.workers`:
 * auto, the shipped cache sizes), unpinned: every check verifies a token the caches do not hold,
 * so the verified-token cache fills to its bound and keeps evicting. Reported after 3× the
 * configured duration of load: the sum of the processes' resident sets, the largest single one,
 * and what the pod's memory cgroup would be charged (private memory plus shared file pages once).
 */
function memoryCase(name: string, workers: number | 'auto', summary: string): BenchCase {
  return {
    name,
    summary,
    async run(ctx) {
      const bodies = await ctx.fixtures.distinctInbound(ctx.distinctTokens);
      const settings = { ...ctx.settings, durationSeconds: 3 * ctx.settings.durationSeconds };
      const { result: m } = await withJwtexchange(
        ctx,
        name,
        {},
        (server) =>
          measure({
            server,
            generator: 'h2-cycler',
            bodies,
            expect: { ok: true, setsHeaders: ['x-jwtauth-subject'] },
            settings,
            scratchDir: ctx.resultsDir,
          }),
        { workers, pin: false },
      );
      const mib = (b: number) => Math.round(b / MiB);
      return measured(this, m, {
        processes: m.memory.processes,
        rssMiB: mib(m.memory.rssBytes),
        podChargedMiB: mib(m.memory.uniqueBytes),
        largestProcessMiB: mib(m.memory.maxRssBytes),
      });
    },
  };
}

export const memoryChurnCase = memoryCase(
  'memory-churn',
  'auto',
  'RSS after distinct-token churn, default settings (workers: auto), unpinned (h2-cycler)',
);
export const memoryChurnOneWorkerCase = memoryCase(
  'memory-churn-1w',
  1,
  'RSS after distinct-token churn, one process (workers: 1), unpinned (h2-cycler)',
);
