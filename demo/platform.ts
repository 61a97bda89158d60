import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DEV_AUTH_AUDIENCE, startDevAuth, type DevAuth } from '../src/dev/dev-auth.js';
import { silentLogger } from '../src/log.js';
import { createDevPki, type DevPki } from '../src/pki/dev-pki.js';
import { parseRelationships, touchAll } from '../src/spicedb/relationship-text.js';
import { parseStsConfig } from '../src/sts/config.js';
import { createKeyStore, startStsServer, type StsServer } from '../src/sts/server.js';
import { freePort } from '../test/helpers/ports.js';
import {
  EXAMPLE_RELATIONSHIPS,
  startSpiceDb,
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

export async function startPlatform(): Promise<Platform> {
  const dir = mkdtempSync(path.join(tmpdir(), 'jwtx-demo-'));
  const pki = await createDevPki({ outDir: path.join(dir, 'pki'), services: [...SERVICES] });
  const auth = await startDevAuth();
  const spicedb = await startSpiceDb({ relationships: EXAMPLE_RELATIONSHIPS });
  const spicedbKeyFile = path.join(dir, 'spicedb.key');
  writeFileSync(spicedbKeyFile, spicedb.presharedKey, { mode: 0o600 });
  const port = await freePort();
  const url = `https://127.0.0.1:${port}`;
  const config = parseStsConfig(
    {
      listen: `127.0.0.1:${port}`,
      issuer: url,
      tls: { certFile: pki.serverCertFile, keyFile: pki.serverKeyFile, clientCaFile: pki.caFile },
      allowlist: [...SERVICES],
      services: {
        gateway: { audiences: ['vmcontroller', 'gateway'], delegate: true },
        vmcontroller: { audiences: ['gateway'] },
      },
      tokens: { ttlSeconds: 60 },
      subjectIssuers: [
        { issuer: auth.issuer, jwksUri: auth.jwksUrl, audiences: [DEV_AUTH_AUDIENCE] },
      ],
      // Saga delegation: the saga relations the gateway writes live in the platform's SpiceDB.
      sagas: {
        spicedb: {
          endpoint: spicedb.endpoint,
          transport: 'plaintext',
          presharedKeyFile: spicedbKeyFile,
          timeoutMs: 2_000,
        },
      },
    },
    dir,
  );
  const keyStore = createKeyStore(config);
  let sts: StsServer | undefined = await startStsServer(config, {
    keyStore,
    logger: silentLogger,
    env: {},
  });
  const deadline = () => ({ deadline: Date.now() + 5_000 });
  const read = async (filter: Parameters<typeof v1.RelationshipFilter.create>[0]) =>
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
      sts ??= await startStsServer(config, { keyStore, logger: silentLogger, env: {} });
    },
    async writeNamespaceRelation(namespaceId, cluster) {
      const rel = touchAll(parseRelationships(`namespace:${namespaceId}#cloud@cloud:${cluster}`));
      await spicedb.client.promises.writeRelationships(rel, new Metadata(), deadline());
    },
    async hasNamespaceRelation(namespaceId, cluster) {
      return (
        (await read({
          resourceType: 'namespace',
          optionalResourceId: namespaceId,
          optionalRelation: 'cloud',
          optionalSubjectFilter: { subjectType: 'cloud', optionalSubjectId: cluster },
        })) > 0
      );
    },
    sagaRelationCount: (sagaId) => read({ resourceType: 'saga', optionalResourceId: sagaId }),
    async close() {
      await sts?.close();
      await auth.close();
      await spicedb.stop();
      spicedb.client.close();
    },
  };
}
