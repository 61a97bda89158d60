import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DEV_AUTH_AUDIENCE, startDevAuth, type DevAuth } from '../src/dev/dev-auth.js';
import { silentLogger } from '../src/log.js';
import { createDevPki, type DevPki } from '../src/pki/dev-pki.js';
import { parseRelationships, touchAll } from '../src/spicedb/relationship-text.js';
import { parseTokenExchangeConfig } from '../src/token-exchange/config.js';
import {
  createKeyStore,
  startTokenExchange,
  type TokenExchangeServer,
} from '../src/token-exchange/server.js';
import { reservePort } from '../test/helpers/ports.js';
import {
  EXAMPLE_RELATIONSHIPS,
  startSpiceDb,
  stopSpiceDb,
  type RunningSpiceDb,
} from '../test/helpers/spicedb.js';
import { Metadata } from '@grpc/grpc-js';
import { v1 } from '@authzed/authzed-node';

/**
 * The platform the apps live on, all real and on loopback: auth.service (dev user tokens),
 * token-exchange (the project's RFC 8693 server over mTLS, gateway and vmcontroller on its
 * allowlist, saga delegation from SpiceDB) and SpiceDB (`spicedb serve`, example schema and
 * relationships).
 */
export interface Platform {
  readonly dir: string;
  readonly pki: DevPki;
  readonly auth: DevAuth;
  readonly sts: { readonly issuer: string; readonly url: string; readonly jwksUrl: string };
  readonly spicedb: RunningSpiceDb;
  readonly spicedbKeyFile: string;
  /** Stops token-exchange (keys are kept) … */
  stopTokenExchange(): Promise<void>;
  /** … and starts it again on the same port. */
  startTokenExchange(): Promise<void>;
  /** Writes namespace:<id>#cloud@cloud:<cluster> (what vmcontroller does once authorized). */
  writeNamespaceRelation(namespaceId: string, cluster: string): Promise<void>;
  hasNamespaceRelation(namespaceId: string, cluster: string): Promise<boolean>;
  /** How many relationships saga:<id> has (its initiator and executor while it may act). */
  sagaRelationCount(sagaId: string): Promise<number>;
  close(): Promise<void>;
}

export const SERVICES = ['gateway', 'vmcontroller'] as const;

function stsConfig(
  dir: string,
  p: { pki: DevPki; auth: DevAuth; spicedbKeyFile: string; spicedbEndpoint: string },
  port: number,
) {
  return parseTokenExchangeConfig(
    {
      listen: `127.0.0.1:${port}`,
      issuer: `https://127.0.0.1:${port}`,
      tls: {
        certFile: p.pki.serverCertFile,
        keyFile: p.pki.serverKeyFile,
        clientCaFile: p.pki.caFile,
      },
      allowlist: [...SERVICES],
      services: {
        gateway: { audiences: ['vmcontroller', 'gateway'], delegate: true },
        vmcontroller: { audiences: ['gateway'] },
      },
      tokens: { ttlSeconds: 60 },
      subjectIssuers: [
        { issuer: p.auth.issuer, jwksUri: p.auth.jwksUrl, audiences: [DEV_AUTH_AUDIENCE] },
      ],
      // Saga delegation: the saga relations the gateway writes live in the platform's SpiceDB.
      sagas: {
        spicedb: {
          endpoint: p.spicedbEndpoint,
          transport: 'plaintext',
          presharedKeyFile: p.spicedbKeyFile,
          timeoutMs: 2_000,
        },
      },
    },
    dir,
  );
}

/**
 * Starts the platform. If a part fails to start (a tool missing, a port taken), the parts already
 * running are stopped before the error is thrown, so the caller can exit at once.
 */
export async function startPlatform(): Promise<Platform> {
  const dir = mkdtempSync(path.join(tmpdir(), 'jwtx-demo-'));
  const stops: (() => Promise<void>)[] = [];
  const stopAll = async () => {
    for (const stop of stops.splice(0).reverse()) await stop().catch(() => undefined);
  };
  try {
    const pki = await createDevPki({ outDir: path.join(dir, 'pki'), services: [...SERVICES] });
    const auth = await startDevAuth();
    stops.push(() => auth.close());
    const spicedb = await startSpiceDb({ relationships: EXAMPLE_RELATIONSHIPS });
    stops.push(() => stopSpiceDb(spicedb));
    const spicedbKeyFile = path.join(dir, 'spicedb.key');
    writeFileSync(spicedbKeyFile, spicedb.presharedKey, { mode: 0o600 });
    // token-exchange restarts during the demo on the same port (its URL is its issuer).
    const reserved = await reservePort();
    stops.push(async () => reserved.release());
    const config = stsConfig(
      dir,
      { pki, auth, spicedbKeyFile, spicedbEndpoint: spicedb.endpoint },
      reserved.port,
    );
    const keyStore = createKeyStore(config);
    const startSts = () => startTokenExchange(config, { keyStore, logger: silentLogger, env: {} });
    let sts: TokenExchangeServer | undefined = await startSts();
    stops.push(async () => sts?.close());
    const url = `https://127.0.0.1:${reserved.port}`;
    const read = relationCounter(spicedb);
    return {
      dir,
      pki,
      auth,
      sts: { issuer: url, url, jwksUrl: `${url}/.well-known/jwks.json` },
      spicedb,
      spicedbKeyFile,
      async stopTokenExchange() {
        await sts?.close();
        sts = undefined;
      },
      async startTokenExchange() {
        sts ??= await startSts();
      },
      async writeNamespaceRelation(namespaceId, cluster) {
        const rel = touchAll(parseRelationships(`namespace:${namespaceId}#cloud@cloud:${cluster}`));
        await spicedb.client.promises.writeRelationships(rel, new Metadata(), deadline());
      },
      async hasNamespaceRelation(namespaceId, cluster) {
        const filter = {
          resourceType: 'namespace',
          optionalResourceId: namespaceId,
          optionalRelation: 'cloud',
          optionalSubjectFilter: { subjectType: 'cloud', optionalSubjectId: cluster },
        };
        return (await read(filter)) > 0;
      },
      sagaRelationCount: (sagaId) => read({ resourceType: 'saga', optionalResourceId: sagaId }),
      close: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

const deadline = () => ({ deadline: Date.now() + 15_000 });

/** How many relationships match a filter, read fully consistent. */
function relationCounter(spicedb: RunningSpiceDb) {
  return async (filter: Parameters<typeof v1.RelationshipFilter.create>[0]) =>
    (
      await spicedb.client.promises.readRelationships(
        v1.ReadRelationshipsRequest.create({
          relationshipFilter: v1.RelationshipFilter.create(filter),
          consistency: { requirement: { oneofKind: 'fullyConsistent', fullyConsistent: true } },
        }),
        new Metadata(),
        deadline(),
      )
    ).length;
}
