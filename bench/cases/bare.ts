import path from 'node:path';
import { cpuProfFlags, summarizeProfile } from '../lib/cpu-profile.js';
import { measure } from '../lib/measure.js';
import { startBareServer, withServer, type BareKind } from '../lib/servers.js';
import { measured, type BenchCase, type CaseContext, type CaseResult } from './case.js';
import { warmLoad } from './jwtexchange-server.js';

/**
 * The ceiling every other case is divided by: the real gRPC listener (src/grpc/h2-server.ts) and
 * proto, decoding the same CheckRequest and encoding an allow-shaped CheckResponse (the generic
 * proto-loader codec), but deciding nothing. `bare-lean` is the same with the real server's own
 * codec (src/envoy/server-codec.ts): what is left of the transport alone (our HTTP/2, src/h2/);
 * `bare-h2` answers on node:http2 with no gRPC server at all (the HTTP/2 the listener ran on
 * until the tenth session); `bare-grpcjs` is grpc-js's own server with proto-loader's
 * codec, the ceiling issue 13 named (a reference: the sidecar served gRPC with it until the ninth
 * session).
 * `bare-http` is the ceiling of the HTTP cases: the real ext_authz HTTP listener
 * (src/server/http-check-server.ts) reading the same request and answering the same allow.
 */
function bare(name: string, kind: BareKind, summary: string): BenchCase {
  return {
    name,
    summary,
    run: (ctx) => runBare(name, kind, summary, ctx),
  };
}

export const bareCase = bare(
  'bare',
  'generic',
  'ceiling: same gRPC listener and proto, fixed OK answer, no work (h2load)',
);
export const bareLeanCase = bare(
  'bare-lean',
  'lean',
  'transport alone: as bare, with the lean codec jwtexchange uses (h2load)',
);
export const bareH2Case = bare(
  'bare-h2',
  'h2',
  'without a gRPC server: node:http2 alone, lean codec, fixed OK answer, no work (h2load)',
);
export const bareGrpcJsCase = bare(
  'bare-grpcjs',
  'grpcjs',
  "reference: grpc-js's own server and proto-loader, fixed OK answer, no work (h2load)",
);
export const bareHttpCase = bare(
  'bare-http',
  'http',
  'HTTP ceiling: same node:http check listener, fixed 200 allow, no work (h2load --h1)',
);

async function runBare(
  name: string,
  kind: BareKind,
  summary: string,
  ctx: CaseContext,
): Promise<CaseResult> {
  const load = await warmLoad(ctx, kind === 'http' ? 'http' : 'grpc');
  const logFile = path.join(ctx.resultsDir, `${name}.log`);
  // Profiled too under --profile: the real server's profile only makes sense next to this one.
  const profile = cpuProfFlags(ctx.resultsDir, name);
  const m = await withServer(
    startBareServer(logFile, ctx.profile ? profile.flags : [], kind, ctx.cpus.server),
    (server) =>
      measure({
        server,
        ...load,
        expect: { ok: true, setsHeaders: ['x-jwtauth-subject'] },
        settings: ctx.settings,
        scratchDir: ctx.resultsDir,
        generatorCpus: ctx.cpus.generator,
      }),
  );
  return measured(
    { name, summary },
    m,
    {},
    ctx.profile ? summarizeProfile(profile.dir) : undefined,
  );
}
