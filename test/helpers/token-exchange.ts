import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Clock } from '../../src/clock.js';
import { startDevAuth, DEV_AUTH_AUDIENCE, type DevAuth } from '../../src/dev/dev-auth.js';
import type { Logger } from '../../src/log.js';
import { TokenExchangeMetrics } from '../../src/metrics/token-exchange.js';
import { httpRequest } from '../../src/net/http-client.js';
import { createDevPki, type DevPki } from '../../src/pki/dev-pki.js';
import {
  parseTokenExchangeConfig,
  type TokenExchangeConfig,
} from '../../src/token-exchange/config.js';
import type { KeyStore } from '../../src/token-exchange/key-store.js';
import {
  createKeyStore,
  startTokenExchange,
  type TokenExchangeServer,
} from '../../src/token-exchange/server.js';
import { reservePort } from './ports.js';
import { registerPem, registerToken, testLogger } from './run-logs.js';

export interface TestTokenExchangeOptions {
  /** Services that get a client certificate from the dev PKI. */
  readonly services: readonly string[];
  /** Services on the allowlist (default: all of `services`). */
  readonly allowlist?: readonly string[];
  /** Allowed audiences per service (default: every service may ask for every service). */
  readonly audiences?: Record<string, string[]>;
  readonly ttlSeconds?: number;
  /** Services allowed to delegate (exchanged tokens carry act). */
  readonly delegate?: readonly string[];
  /** Start a dev auth.service and trust it as a subject-token issuer. */
  readonly devAuth?: boolean;
  readonly clock?: Clock;
  readonly logger?: Logger;
  /** Extra keys merged into the STS config document (e.g. keys, clientIdentity). */
  readonly extra?: Record<string, unknown>;
}

export interface TestTokenExchange {
  readonly pki: DevPki;
  readonly url: string;
  readonly tokenUrl: string;
  readonly jwksUrl: string;
  readonly issuer: string;
  readonly port: number;
  readonly config: TokenExchangeConfig;
  readonly keyStore: KeyStore;
  readonly devAuth?: DevAuth;
  /** The server's metrics (jwtexchange_sts_*), kept across restarts. */
  readonly metrics: TokenExchangeMetrics;
  /** POSTs to /token answered since the helper started (across restarts). */
  requestCount(): number;
  /** `outbound.tokenExchange` settings for a sidecar holding `service`'s client certificate. */
  clientSettings(service?: string): {
    tokenUrl: string;
    certFile: string;
    keyFile: string;
    caFile: string;
  };
  /**
   * `inbound.issuers` of a sidecar (audience `gateway`) that exchanges dev auth.service tokens
   * here (needs `devAuth`) and accepts the tokens this server issues, keys fetched from it.
   */
  exchangingIssuers(): Record<string, unknown>[];
  /** Stops the listener; the keys are kept. */
  stop(): Promise<void>;
  /** Starts it again on the same port with the same keys. */
  start(): Promise<void>;
  /** Stops everything and removes the temporary PKI. */
  close(): Promise<void>;
}

/**
 * A real token-exchange server over real mTLS on 127.0.0.1, with a fresh dev PKI in a temp dir.
 * The issuer is the server's own URL (https://127.0.0.1:<port>), as OIDC discovery expects.
 */
export async function startTestTokenExchange(
  options: TestTokenExchangeOptions,
): Promise<TestTokenExchange> {
  const dir = mkdtempSync(path.join(tmpdir(), 'jwtx-sts-'));
  const pki = await createDevPki({ outDir: path.join(dir, 'pki'), services: options.services });
  registerPkiKeys(pki);
  const devAuth = options.devAuth
    ? recordMints(await startDevAuth({ clock: options.clock }))
    : undefined;
  // Its URL is its issuer and it restarts on the same port: a reserved port, not port 0.
  const reserved = await reservePort();
  const port = reserved.port;
  const url = `https://127.0.0.1:${port}`;
  const services: Record<string, unknown> = {};
  for (const s of options.services) {
    services[s] = {
      audiences: options.audiences?.[s] ?? [...options.services],
      delegate: options.delegate?.includes(s) ?? false,
    };
  }
  const config = parseTokenExchangeConfig(
    {
      listen: `127.0.0.1:${port}`,
      issuer: url,
      tls: { certFile: pki.serverCertFile, keyFile: pki.serverKeyFile, clientCaFile: pki.caFile },
      allowlist: options.allowlist ?? options.services,
      services,
      tokens: { ttlSeconds: options.ttlSeconds ?? 300 },
      subjectIssuers: devAuth
        ? [{ issuer: devAuth.issuer, jwksUri: devAuth.jwksUrl, audiences: [DEV_AUTH_AUDIENCE] }]
        : [],
      ...options.extra,
    },
    dir,
  );
  const keyStore = createKeyStore(config, options.clock);
  const metrics = new TokenExchangeMetrics({ defaultMetrics: false });
  let requests = 0;
  let server: TokenExchangeServer | undefined;
  const logger = options.logger ?? testLogger('sts');
  const start = async () => {
    if (server) return;
    server = await startTokenExchange(config, {
      keyStore,
      clock: options.clock,
      logger,
      env: {},
      metrics,
      onRequest: () => void requests++,
    });
  };
  const stop = async () => {
    const s = server;
    server = undefined;
    await s?.close();
  };
  try {
    await start();
  } catch (err) {
    await devAuth?.close();
    reserved.release();
    throw err;
  }
  const jwksUrl = `${url}/.well-known/jwks.json`;
  return {
    pki,
    url,
    tokenUrl: `${url}/token`,
    jwksUrl,
    issuer: url,
    port,
    config,
    keyStore,
    devAuth,
    metrics,
    requestCount: () => requests,
    clientSettings(service = 'gateway') {
      const client = pki.clients[service];
      if (!client) throw new Error(`no client certificate for ${service}: add it to services`);
      const { certFile, keyFile } = client;
      return { tokenUrl: `${url}/token`, certFile, keyFile, caFile: pki.caFile };
    },
    exchangingIssuers() {
      if (!devAuth) throw new Error('exchangingIssuers needs devAuth: true');
      return [
        {
          issuer: devAuth.issuer,
          jwksUri: devAuth.jwksUrl,
          audiences: ['token-exchange'],
          exchange: { audience: 'gateway' },
        },
        {
          issuer: url,
          jwksUri: jwksUrl,
          jwksCaFile: pki.caFile,
          audiences: ['gateway'],
        },
      ];
    },
    stop,
    start,
    async close() {
      await stop();
      await devAuth?.close();
      reserved.release();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface StsAnswer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: Record<string, unknown>;
}

/**
 * POSTs a form to the token endpoint over mTLS as `client` (a service of the PKI, explicit
 * cert/key files, or none for no client certificate).
 */
export async function postToken(
  sts: Pick<TestTokenExchange, 'pki' | 'tokenUrl'>,
  client: string | { certFile: string; keyFile: string } | undefined,
  form: Record<string, string | string[]>,
  options: { contentType?: string; method?: 'GET' | 'POST' } = {},
): Promise<StsAnswer> {
  const files = typeof client === 'string' ? sts.pki.clients[client] : client;
  if (typeof client === 'string' && !files) throw new Error(`no certificate for ${client}`);
  const body = new URLSearchParams();
  for (const [k, v] of Object.entries(form)) for (const x of [v].flat()) body.append(k, x);
  const res = await httpRequest(sts.tokenUrl, {
    method: options.method ?? 'POST',
    headers: { 'content-type': options.contentType ?? 'application/x-www-form-urlencoded' },
    body: body.toString(),
    timeoutMs: 30_000,
    ca: readFileSync(sts.pki.caFile),
    ...(files ? { cert: readFileSync(files.certFile), key: readFileSync(files.keyFile) } : {}),
  });
  const answer = JSON.parse(res.body) as Record<string, unknown>;
  if (typeof answer.access_token === 'string') {
    registerToken('token issued by token-exchange', answer.access_token);
  }
  return { status: res.status, headers: res.headers, body: answer };
}

/** A dev auth.service whose minted tokens are recorded for the end-of-run leak check. */
function recordMints(auth: DevAuth): DevAuth {
  const mint = auth.mint.bind(auth);
  return Object.assign(auth, {
    async mint(request: Parameters<DevAuth['mint']>[0]) {
      const token = await mint(request);
      registerToken('token minted by the test auth.service', token);
      return token;
    },
  });
}

/** The private keys of a dev PKI, recorded for the end-of-run leak check. */
export function registerPkiKeys(pki: DevPki): void {
  registerPem('dev PKI server key', readFileSync(pki.serverKeyFile, 'utf8'));
  for (const [name, c] of Object.entries(pki.clients)) {
    registerPem(`dev PKI client key of ${name}`, readFileSync(c.keyFile, 'utf8'));
  }
}

export const EXCHANGE_GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';
export const JWT_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:jwt';
export const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';
