import https from 'node:https';
import { readFileSync } from 'node:fs';
import { systemClock, type Clock } from '../clock.js';
import { silentLogger, type Logger } from '../log.js';
import { TokenExchangeMetrics } from '../metrics/token-exchange.js';
import { listenOn, listenTarget } from '../net/address.js';
import { formatHostPort } from '../net/host-port.js';
import { resolveAllowlist } from './allowlist.js';
import type { TokenExchangeConfig } from './config.js';
import { createRouter } from './router.js';
import { createSpicedbClient, readPresharedKey, type ZedClient } from '../spicedb/client.js';
import { SagaLookup } from './saga-lookup.js';
import { readKeyState, writeKeyState } from './key-file.js';
import { KeyStore } from './key-store.js';
import { createSubjectIssuers } from './subject-issuers.js';
import { SubjectTokens } from './subject-tokens.js';
import { createTokenEndpoint, type TokenRequestOutcome } from './token-endpoint.js';
import { TokenIssuer } from './token-issuer.js';
import { JWKS_PATH, TOKEN_PATH } from './well-known.js';

export interface TokenExchangeOptions {
  readonly clock?: Clock;
  readonly logger?: Logger;
  readonly metrics?: TokenExchangeMetrics;
  /** Reuse keys across restarts of the listener (tokens issued earlier keep verifying). */
  readonly keyStore?: KeyStore;
  /** Where ENABLED_TLS_SERVICE_NAME is read from (default process.env). */
  readonly env?: NodeJS.ProcessEnv;
  readonly onRequest?: (outcome: TokenRequestOutcome) => void;
}

export interface TokenExchangeServer {
  readonly port: number;
  /** https://127.0.0.1:<port> (or the configured host). */
  readonly url: string;
  readonly tokenUrl: string;
  readonly jwksUrl: string;
  readonly keyStore: KeyStore;
  readonly allowlist: readonly string[];
  close(): Promise<void>;
}

/** Retired keys stay published this much longer than the token lifetime (verifier clock skew). */
const RETAIN_MARGIN_SECONDS = 300;

export function createKeyStore(config: TokenExchangeConfig, clock: Clock = systemClock): KeyStore {
  const file = config.keys.stateFile;
  return new KeyStore({
    clock,
    rotateEverySeconds: config.keys.rotateEverySeconds,
    publishAheadSeconds: config.keys.publishAheadSeconds,
    retainSeconds:
      config.tokens.ttlSeconds + config.tokens.clockToleranceSeconds + RETAIN_MARGIN_SECONDS,
    ...(file ? { state: readKeyState(file), onChange: (state) => writeKeyState(file, state) } : {}),
  });
}

function tlsOptions(config: TokenExchangeConfig): https.ServerOptions {
  return {
    cert: readFileSync(config.tls.certFile),
    key: readFileSync(config.tls.keyFile),
    ca: readFileSync(config.tls.clientCaFile),
    // Ask for a certificate but let the handshake finish without a trusted one, so the caller
    // gets an RFC 6749 invalid_client answer instead of a bare TLS alert.
    requestCert: true,
    rejectUnauthorized: false,
    minVersion: 'TLSv1.2',
    maxHeaderSize: 16_384,
    // Check request/header deadlines every second (Node's default is every 30 s).
    connectionsCheckingInterval: 1_000,
  };
}

/** Wires the token endpoint: allowlist, subject-token verification, issuing. */
function createTokenHandler(
  config: TokenExchangeConfig,
  keyStore: KeyStore,
  o: { clock: Clock; logger: Logger; metrics: TokenExchangeMetrics } & TokenExchangeOptions,
) {
  const allowlist = resolveAllowlist(config.allowlist, o.env);
  const external = createSubjectIssuers(config.subjectIssuers, o);
  const subjects = new SubjectTokens({
    issuer: config.issuer,
    keyStore,
    external,
    clock: o.clock,
    maxTokenBytes: config.tokens.maxSubjectTokenBytes,
    clockToleranceSeconds: config.tokens.clockToleranceSeconds,
  });
  const issuer = new TokenIssuer({
    issuer: config.issuer,
    keyStore,
    clock: o.clock,
    ttlSeconds: config.tokens.ttlSeconds,
  });
  const saga = sagaLookup(config, o);
  const handler = createTokenEndpoint({
    config,
    allowlist,
    issuer,
    subjects,
    sagas: saga?.lookup,
    logger: o.logger,
    metrics: o.metrics,
    onRequest: o.onRequest,
  });
  return { handler, allowlist, external, spicedb: saga?.client };
}

/** Saga delegation (config `sagas`): one long-lived SpiceDB client and the lookup over it. */
function sagaLookup(
  config: TokenExchangeConfig,
  o: { clock: Clock; logger: Logger },
): { lookup: SagaLookup; client: ZedClient } | undefined {
  if (!config.sagas) return undefined;
  const { spicedb, schema } = config.sagas;
  const client = createSpicedbClient(spicedb, readPresharedKey(spicedb));
  const lookup = new SagaLookup({
    client,
    endpoint: spicedb.endpoint,
    timeoutMs: spicedb.timeoutMs,
    schema,
    clock: o.clock,
    logger: o.logger,
  });
  return { lookup, client };
}

/** https://host:port for the listen address (wildcard binds are reached over 127.0.0.1). */
function baseUrlOf(address: string, port: number): string {
  const target = listenTarget(address);
  const host =
    'host' in target && target.host !== '0.0.0.0' && target.host !== '::'
      ? target.host
      : '127.0.0.1';
  return `https://${formatHostPort(host, port)}`;
}

/** Starts the reference token-exchange server (RFC 8693 over mTLS). */
export async function startTokenExchange(
  config: TokenExchangeConfig,
  options: TokenExchangeOptions = {},
): Promise<TokenExchangeServer> {
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? silentLogger;
  const metrics = options.metrics ?? new TokenExchangeMetrics({ defaultMetrics: false });
  const keyStore = options.keyStore ?? createKeyStore(config, clock);
  keyStore.signingKey(); // the first key exists (and is saved) before the first request
  const token = createTokenHandler(config, keyStore, { ...options, clock, logger, metrics });
  let baseUrl = '';
  const route = createRouter({ config, keyStore, token: token.handler, baseUrl: () => baseUrl });
  const server = https.createServer(tlsOptions(config), route);
  server.requestTimeout = config.limits.requestTimeoutMs;
  server.headersTimeout = Math.min(config.limits.requestTimeoutMs, 10_000);
  server.keepAliveTimeout = 5_000;
  server.on('tlsClientError', (err) => logger.debug('TLS handshake failed', { error: err }));
  const stopKeys = () => {
    token.external.forEach((i) => i.keys.stop());
    token.spicedb?.close();
  };
  token.external.forEach((i) => i.keys.start());
  const port = await listenOn(server, config.listen, 'listen').catch((err: unknown) => {
    stopKeys();
    throw err;
  });
  baseUrl = baseUrlOf(config.listen, port);
  logger.info('token-exchange listening', {
    url: baseUrl,
    issuer: config.issuer,
    allowlist: token.allowlist.names,
  });
  return {
    port,
    url: baseUrl,
    tokenUrl: `${baseUrl}${TOKEN_PATH}`,
    jwksUrl: `${baseUrl}${JWKS_PATH}`,
    keyStore,
    allowlist: token.allowlist.names,
    close: () => close(server, stopKeys),
  };
}

function close(server: https.Server, cleanup: () => void): Promise<void> {
  cleanup();
  return new Promise((resolve) => {
    server.close(() => resolve());
    // Idle keep-alive connections would hold close() open; in-flight requests are cut too,
    // which is what a restart in tests wants.
    server.closeAllConnections();
  });
}
