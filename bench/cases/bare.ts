import path from 'node:path';
import { cpuProfFlags, summarizeProfile } from '../lib/cpu-profile.js';
import { measure } from '../lib/measure.js';
import { startBareServer, withServer } from '../lib/servers.js';
import { measured, type BenchCase } from './case.js';

/**
 * The ceiling every other case is divided by: grpc-js with the real listener and proto, decoding
 * the same CheckRequest and encoding an allow-shaped CheckResponse, but deciding nothing.
 */
export const bareCase: BenchCase = {
  name: 'bare',
  summary: 'ceiling: same grpc-js listener and proto, fixed OK answer, no work (h2load)',
  async run(ctx) {
    const bodies = await ctx.fixtures.warmInbound();
    const logFile = path.join(ctx.resultsDir, 'bare.log');
    // Profiled too under --profile: the real server's profile only makes sense next to this one.
    const profile = cpuProfFlags(ctx.resultsDir, 'bare');
    const m = await withServer(
      startBareServer(logFile, ctx.profile ? profile.flags : []),
      (server) =>
        measure({
          server,
          generator: 'h2load',
          bodies,
          expect: { ok: true, setsHeaders: ['x-jwtauth-subject'] },
          settings: ctx.settings,
          scratchDir: ctx.resultsDir,
        }),
    );
    return measured(this, m, {}, ctx.profile ? summarizeProfile(profile.dir) : undefined);
  },
};
