import { createLogger } from '../../log.js';
import { Metrics } from '../../metrics.js';
import { listenOn } from '../../server/address.js';
import { createHttpServer } from '../../server/http-server.js';
import { Readiness } from '../../server/readiness.js';
import { loadStsConfigFile } from '../../sts/config.js';
import { startStsServer } from '../../sts/server.js';
import { parseCommandArgs } from '../args.js';
import { runUntilSignal } from '../signals.js';

export const summary = 'run the reference token-exchange server (RFC 8693 over mTLS)';

const HELP = `usage: jwtexchange sts --config FILE

Runs token-exchange: POST /token (client_credentials and RFC 8693 token exchange, mTLS client
authentication), /.well-known/jwks.json and /.well-known/openid-configuration.
See docs/token-exchange.md and examples/sts.yaml. ENABLED_TLS_SERVICE_NAME (comma-separated)
adds services to the allowlist.
  --config FILE   token-exchange YAML configuration (default $JWTEXCHANGE_STS_CONFIG)`;

export async function run(args: string[]): Promise<number> {
  const parsed = parseCommandArgs(args, { config: { type: 'string' } }, HELP);
  if (!parsed) return 0;
  const file = parsed.values.config ?? process.env.JWTEXCHANGE_STS_CONFIG;
  if (!file) {
    console.error(`--config is required\n\n${HELP}`);
    return 2;
  }
  const config = loadStsConfigFile(file);
  const logger = createLogger(config.log.level).child({ component: 'token-exchange' });
  const metrics = new Metrics();
  const server = await startStsServer(config, { logger, metrics });
  // Optional scrape endpoint: the same /metrics, /healthz, /readyz listener as the sidecar's.
  const readiness = new Readiness();
  const http = config.metricsAddress ? createHttpServer(readiness, metrics, logger) : undefined;
  if (http) await listenOn(http, config.metricsAddress!);
  if (http) logger.info('metrics listening', { address: config.metricsAddress });
  return runUntilSignal(
    {
      async shutdown() {
        readiness.startDraining();
        await server.close();
        http?.closeAllConnections();
        await new Promise((r) => (http ? http.close(r) : r(undefined)));
      },
    },
    logger,
  );
}
