import path from 'node:path';
import { parseConfig } from '../../config/load.js';
import { DEV_AUDIENCE, ensureDevIssuer } from '../../dev/dev-issuer.js';
import { createLogger } from '../../log.js';
import { startApp } from '../../server/app.js';
import { parseCommandArgs } from '../args.js';
import { runUntilSignal } from '../signals.js';

export const summary = 'run the sidecar on an embedded development default (npm start)';

const HELP = `usage: jwtexchange dev [--dir DIR]

Starts the ext_authz server on 127.0.0.1:9191 (gRPC) and 127.0.0.1:9464 (HTTP) with a generated
development issuer, and prints commands that mint a token and send a check.
  --dir DIR   where development keys and state live (default .dev)`;

export async function run(args: string[]): Promise<number> {
  const parsed = parseCommandArgs(args, { dir: { type: 'string', default: '.dev' } }, HELP);
  if (!parsed) return 0;
  const dir = path.resolve(parsed.values.dir);
  const issuer = await ensureDevIssuer(dir);
  const config = parseConfig(
    {
      server: { grpcAddress: '127.0.0.1:9191', httpAddress: '127.0.0.1:9464' },
      inbound: {
        mode: 'enforce',
        issuers: [
          {
            issuer: issuer.issuer,
            jwksFile: issuer.jwksFile,
            audiences: [DEV_AUDIENCE],
            algorithms: ['ES256'],
          },
        ],
      },
    },
    dir,
  );
  const logger = createLogger(config.log.level);
  const app = await startApp(config, { logger });
  await app.whenReady();
  const rel = path.relative(process.cwd(), dir) || '.';
  console.log(`
jwtexchange (development default) is ready
  ext_authz gRPC   ${config.server.grpcAddress}
  health/metrics   http://${config.server.httpAddress}/readyz  /metrics
  dev issuer       ${issuer.issuer} (keys in ${rel}/)

Try it (in another terminal):
  npx jwtexchange check --authorization "Bearer $(npx jwtexchange dev-token --dir ${rel})"   # ALLOW
  npx jwtexchange check                                                                  # DENY 401
`);
  return runUntilSignal(app, logger);
}
