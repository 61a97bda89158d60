import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { exportJWK } from 'jose';
import Provider, { errors, type Configuration, type KoaContextWithOIDC } from 'oidc-provider';
import { generateEcKeyPair } from '../../src/pki/ec-key-pair.js';
import { DEFAULT_SPIFFE_PREFIX } from '../../src/pki/service-name.js';
import type { DevPki } from '../../src/pki/dev-pki.js';

/**
 * panva/node-oidc-provider (npm `oidc-provider`), an independent, certified OAuth 2.0 / OpenID
 * Connect server, as a test peer. Only its configuration is ours:
 * - client credentials (RFC 6749 §4.4) with JWT access tokens (RFC 9068, ES256),
 * - RFC 8705 `tls_client_auth`: each client is registered with `tls_client_auth_san_uri`, the
 *   SPIFFE URI SAN of its certificate from our dev PKI,
 * - RFC 8707 resource indicators: a client may ask only for the resources listed for it,
 * - mounted under /op, as providers with several tenants are (Keycloak's /realms/<name>): the
 *   issuer has a path, and the metadata is at /op/.well-known/openid-configuration (and
 *   /op/.well-known/oauth-authorization-server) but not at RFC 8414's
 *   /.well-known/oauth-authorization-server/op, so clients must fall back; it carries
 *   `mtls_endpoint_aliases` (RFC 8705 §5).
 *
 * It runs over real HTTPS on two listeners, as RFC 8705 §5 deployments do: the issuer's own
 * (server certificate only; discovery, JWKS, and a token endpoint where tls_client_auth cannot
 * work) and the mTLS alias, which asks for a client certificate and lets oidc-provider read the
 * TLS peer certificate (features.mTLS.getCertificate).
 */
export interface OidcProviderOptions {
  readonly pki: DevPki;
  /** client_id → resources (RFC 8707 URIs) it may get tokens for. Its certificate: pki.clients[client_id]. */
  readonly clients: Record<string, readonly string[]>;
  /** resource → the aud its tokens carry, when it should differ from the resource (misconfiguration tests). */
  readonly audienceOverride?: Record<string, string>;
  readonly ttlSeconds?: number;
}

export interface TestOidcProvider {
  readonly issuer: string;
  readonly jwksUrl: string;
  /** token_endpoint in the metadata (no client certificate asked for). */
  readonly tokenUrl: string;
  /** mtls_endpoint_aliases.token_endpoint. */
  readonly mtlsTokenUrl: string;
  /** POST /token requests seen, per listener. */
  readonly tokenRequests: { plain: number; mtls: number };
  /** Stops / restarts the issuer's listener (discovery, JWKS) on the same port. */
  stopMetadata(): Promise<void>;
  startMetadata(): Promise<void>;
  close(): Promise<void>;
}

function peerCertificatePem(ctx: KoaContextWithOIDC): string | undefined {
  const socket = ctx.req.socket as TLSSocket;
  const raw = socket.getPeerCertificate?.()?.raw;
  if (!raw) return undefined;
  return `-----BEGIN CERTIFICATE-----\n${raw.toString('base64')}\n-----END CERTIFICATE-----`;
}

/** The certificate's URI SANs, read by Node from the verified TLS session. */
function peerUris(ctx: KoaContextWithOIDC): string[] {
  const san = (ctx.req.socket as TLSSocket).getPeerCertificate?.()?.subjectaltname ?? '';
  return san
    .split(', ')
    .filter((s) => s.startsWith('URI:'))
    .map((s) => s.slice(4));
}

function configuration(
  options: OidcProviderOptions,
  signingKey: Record<string, unknown>,
  mtlsTokenUrl: string,
): Configuration {
  const ttl = options.ttlSeconds ?? 300;
  return {
    clients: Object.keys(options.clients).map((clientId) => ({
      client_id: clientId,
      token_endpoint_auth_method: 'tls_client_auth',
      tls_client_auth_san_uri: `${DEFAULT_SPIFFE_PREFIX}${clientId}`,
      grant_types: ['client_credentials'],
      id_token_signed_response_alg: 'ES256',
      response_types: [],
      redirect_uris: [],
    })),
    clientAuthMethods: ['tls_client_auth'],
    ttl: { ClientCredentials: ttl },
    jwks: { keys: [signingKey] },
    enabledJWA: { idTokenSigningAlgValues: ['ES256'] },
    discovery: { mtls_endpoint_aliases: { token_endpoint: mtlsTokenUrl } },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      mTLS: {
        enabled: true,
        tlsClientAuth: true,
        getCertificate: peerCertificatePem,
        certificateAuthorized: (ctx) => (ctx.req.socket as TLSSocket).authorized === true,
        certificateSubjectMatches: (ctx, property, expected) =>
          property === 'tls_client_auth_san_uri' && peerUris(ctx).includes(expected),
      },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => undefined as unknown as string,
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx, resource, client) => {
          if (!options.clients[client.clientId]?.includes(resource)) {
            throw new errors.InvalidTarget('the client may not ask for this resource');
          }
          return {
            scope: '',
            audience: options.audienceOverride?.[resource] ?? resource,
            accessTokenTTL: ttl,
            accessTokenFormat: 'jwt',
            jwt: { sign: { alg: 'ES256' } },
          };
        },
      },
    },
  };
}

function listen(server: https.Server, port = 0): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
  });
}

function close(server: https.Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

const MOUNT = '/op';

/** Hands a request under MOUNT to oidc-provider, the way koa-mount would; 404 for the rest. */
function mounted(callback: (req: IncomingMessage, res: ServerResponse) => unknown) {
  return (req: IncomingMessage, res: ServerResponse) => {
    const url = req.url ?? '/';
    if (url !== MOUNT && !url.startsWith(`${MOUNT}/`) && !url.startsWith(`${MOUNT}?`)) {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not_found"}');
      return;
    }
    (req as IncomingMessage & { originalUrl: string }).originalUrl = url;
    req.url = url.slice(MOUNT.length) || '/';
    void callback(req, res);
  };
}

export async function startOidcProvider(options: OidcProviderOptions): Promise<TestOidcProvider> {
  const { pki } = options;
  const tls = {
    cert: readFileSync(pki.serverCertFile),
    key: readFileSync(pki.serverKeyFile),
    minVersion: 'TLSv1.2' as const,
  };
  const plain = https.createServer(tls);
  // Ask for a client certificate, but let oidc-provider answer invalid_client without one.
  const mtls = https.createServer({
    ...tls,
    ca: readFileSync(pki.caFile),
    requestCert: true,
    rejectUnauthorized: false,
  });
  const port = await listen(plain);
  const mtlsPort = await listen(mtls);
  const issuer = `https://127.0.0.1:${port}${MOUNT}`;
  const mtlsTokenUrl = `https://127.0.0.1:${mtlsPort}${MOUNT}/token`;
  const { privateKey } = generateEcKeyPair();
  const signingKey = {
    ...(await exportJWK(privateKey)),
    kid: 'oidc-provider-es256',
    alg: 'ES256',
    use: 'sig',
  };
  const provider = new Provider(issuer, configuration(options, signingKey, mtlsTokenUrl));
  const tokenRequests = { plain: 0, mtls: 0 };
  const handle = mounted(provider.callback());
  for (const [which, server] of [
    ['plain', plain],
    ['mtls', mtls],
  ] as const) {
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      if (req.method === 'POST' && req.url?.startsWith(`${MOUNT}/token`)) tokenRequests[which]++;
      handle(req, res);
    });
  }
  return {
    issuer,
    jwksUrl: `${issuer}/jwks`,
    tokenUrl: `${issuer}/token`,
    mtlsTokenUrl,
    tokenRequests,
    stopMetadata: () => close(plain),
    startMetadata: async () => void (await listen(plain, port)),
    async close() {
      await close(plain);
      await close(mtls);
    },
  };
}
