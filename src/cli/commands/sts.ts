import { checkReadableFiles } from '../../config/readable-files.js';
import { tokenExchangeFiles } from '../../token-exchange/config-summary.js';
import { createLogger } from '../../log.js';
import { TokenExchangeMetrics } from '../../metrics/token-exchange.js';
import { boundAddress, listenOn } from '../../net/address.js';
import { createHttpServer } from '../../server/http-server.js';
import { Readiness } from '../../readiness.js';
import { loadTokenExchangeConfigFile } from '../../token-exchange/config.js';
import { startTokenExchange } from '../../token-exchange/server.js';
import { ADDRESSES_FILE_HELP, writeAddressesFile } from '../addresses-file.js';
import { parseCommandArgs } from '../args.js';
import { runUntilSignal } from '../signals.js';

export const summary = 'run the reference token-exchange server (RFC 8693 over mTLS)';

const HELP = `usage: jwtexchange sts --config FILE [--addresses-file FILE]

Runs token-exchange: POST /token (client_credentials and RFC 8693 token exchange, mTLS client
authentication), /.well-known/jwks.json and /.well-known/openid-configuration.
See docs/token-exchange.md and examples/sts.yaml. ENABLED_TLS_SERVICE_NAME (comma-separated)
adds services to the allowlist.
  --config FILE   token-exchange YAML configuration (default $JWTEXCHANGE_STS_CONFIG)
${ADDRESSES_FILE_HELP}`;

export async function run(args: string[]): Promise<number> {
  const parsed = parseCommandArgs(
    args,
    { config: { type: 'string' }, 'addresses-file': { type: 'string' } },
    HELP,
  );
  if (!parsed) return 0;
  const file = parsed.values.config ?? process.env.JWTEXCHANGE_STS_CONFIG;
  if (!file) {
    console.error(`--config is required\n\n${HELP}`);
    return 2;
  }
  const config = loadTokenExchangeConfigFile(file);
  checkReadableFiles(tokenExchangeFiles(config));
  const logger = createLogger(config.log.level).child({ component: 'token-exchange' });
  const metrics = new TokenExchangeMetrics();
  const server = await startTokenExchange(config, { logger, metrics });
  // Optional scrape endpoint: the same /metrics, /healthz, /readyz listener as the sidecar's.
  const readiness = new Readiness();
  const http = config.metricsAddress ? createHttpServer(readiness, metrics, logger) : undefined;
  const shutdown = async () => {
    readiness.startDraining();
    await server.close();
    http?.closeAllConnections();
    await new Promise((r) => (http?.listening ? http.close(r) : r(undefined)));
  };
  let metricsPort = 0;
  try {
    if (http) metricsPort = await listenOn(http, config.metricsAddress!, 'metricsAddress');
  } catch (err) {
    await shutdown();
    throw err;
  }
  if (http) logger.info('metrics listening', { address: config.metricsAddress });
  const removeAddresses = writeAddressesFile(parsed.values['addresses-file'], {
    url: server.url,
    ...(http ? { metrics: boundAddress(config.metricsAddress!, metricsPort) } : {}),
  });
  try {
    return await runUntilSignal({ shutdown }, logger);
  } finally {
    removeAddresses();
  }
}
