import { loadConfigFile } from '../../config/load.js';
import { createLogger } from '../../log.js';
import { startApp } from '../../server/app.js';
import { parseCommandArgs } from '../args.js';
import { runUntilSignal } from '../signals.js';

export const summary = 'run the ext_authz server (--config FILE or JWTEXCHANGE_CONFIG)';

const HELP = `usage: jwtexchange serve [--config FILE]

Runs the ext_authz gRPC server and the HTTP health/metrics listener.
  --config FILE   YAML configuration (default: $JWTEXCHANGE_CONFIG)`;

export async function run(args: string[]): Promise<number> {
  const parsed = parseCommandArgs(args, { config: { type: 'string', short: 'c' } }, HELP);
  if (!parsed) return 0;
  const file = parsed.values.config ?? process.env.JWTEXCHANGE_CONFIG;
  if (!file) {
    console.error(
      'jwtexchange serve: no configuration: pass --config FILE or set JWTEXCHANGE_CONFIG',
    );
    return 2;
  }
  const config = loadConfigFile(file);
  const logger = createLogger(config.log.level);
  const app = await startApp(config, { logger });
  logger.info('serving', {
    grpc: config.server.grpcAddress,
    http: config.server.httpAddress,
    issuers: config.inbound.issuers.map((i) => i.issuer),
    mode: config.inbound.mode,
  });
  return runUntilSignal(app, logger);
}
