import path from 'node:path';
import { loadConfigFile } from '../../config/load.js';
import { checkReadableFiles } from '../../config/readable-files.js';
import { sidecarFiles } from '../../config/referenced-files.js';
import { createLogger } from '../../log.js';
import { boundAddress } from '../../net/address.js';
import { workerCount } from '../../server/container-limits.js';
import { ADDRESSES_FILE_HELP, writeAddressesFile } from '../addresses-file.js';
import { parseCommandArgs } from '../args.js';
import { runUntilSignal } from '../signals.js';

export const summary = 'run the ext_authz server (--config FILE or JWTEXCHANGE_CONFIG)';

const HELP = `usage: jwtexchange serve [--config FILE] [--addresses-file FILE]

Runs the ext_authz gRPC server and the HTTP health/metrics listener.
  --config FILE   YAML configuration (default: $JWTEXCHANGE_CONFIG)
${ADDRESSES_FILE_HELP}`;

export async function run(args: string[]): Promise<number> {
  const parsed = parseCommandArgs(
    args,
    { config: { type: 'string', short: 'c' }, 'addresses-file': { type: 'string' } },
    HELP,
  );
  if (!parsed) return 0;
  const file = parsed.values.config ?? process.env.JWTEXCHANGE_CONFIG;
  if (!file) {
    console.error(
      'jwtexchange serve: no configuration: pass --config FILE or set JWTEXCHANGE_CONFIG',
    );
    return 2;
  }
  const config = loadConfigFile(file);
  checkReadableFiles(sidecarFiles(config));
  const logger = createLogger(config.log.level);
  const workers = workerCount(config.server.workers);
  // Above one worker, this process is the primary and loads only what exists once per pod.
  const app =
    workers > 1
      ? await (
          await import('../../server/primary.js')
        ).startPrimary(config, { logger, configFile: path.resolve(file), workers })
      : await (await import('../../server/app.js')).startApp(config, { logger });
  // The addresses actually bound (an address with port 0 gets a port from the system).
  const addresses = {
    grpc: boundAddress(config.server.grpcAddress, app.grpcPort),
    ...(config.server.httpCheckAddress && app.httpCheckPort !== undefined
      ? { httpCheck: boundAddress(config.server.httpCheckAddress, app.httpCheckPort) }
      : {}),
    http: boundAddress(config.server.httpAddress, app.httpPort),
  };
  logger.info('serving', {
    workers,
    ...addresses,
    grpcPort: app.grpcPort,
    httpPort: app.httpPort,
    issuers: config.inbound.issuers.map((i) => i.issuer),
    mode: config.inbound.mode,
  });
  const removeAddresses = writeAddressesFile(parsed.values['addresses-file'], addresses);
  try {
    return await runUntilSignal(app, logger);
  } finally {
    removeAddresses();
  }
}
