import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { status } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { ensureDevIssuer } from '../../src/dev/dev-issuer.js';
import { AuthorizationClient, syntheticCheckRequest } from '../../src/envoy/client.js';
import { createCa, issueLeaf } from '../../src/pki/certificates.js';
import { startApp, type RunningApp } from '../../src/server/app.js';
import {
  EXAMPLE_RELATIONSHIPS,
  startSpiceDb,
  stopSpiceDb,
  type RunningSpiceDb,
} from '../helpers/spicedb.js';
import { testLogger } from '../helpers/run-logs.js';

/** The sidecar's client over TLS (transport: tls, caFile) to a spicedb serve with a certificate. */
describe('SpiceDB over TLS', () => {
  let db: RunningSpiceDb;
  let dir: string;

  beforeAll(async () => {
    const ca = await createCa('spicedb test CA');
    const leaf = await issueLeaf(ca, {
      commonName: 'spicedb',
      dnsNames: ['localhost'],
      ipAddresses: ['127.0.0.1'],
      usage: 'server',
    });
    db = await startSpiceDb({
      relationships: EXAMPLE_RELATIONSHIPS,
      tls: { cert: leaf.cert, key: leaf.key, ca: ca.cert },
    });
    dir = mkdtempSync(path.join(tmpdir(), 'jwtx-spicedb-tls-app-'));
    writeFileSync(path.join(dir, 'ca.pem'), ca.cert);
    writeFileSync(path.join(dir, 'other-ca.pem'), (await createCa('someone else')).cert);
    writeFileSync(path.join(dir, 'key'), db.presharedKey);
  });

  afterAll(async () => {
    await stopSpiceDb(db);
  });

  async function start(spicedb: Record<string, unknown>): Promise<RunningApp> {
    const issuer = await ensureDevIssuer(dir);
    const config = parseConfig(
      {
        server: { grpcAddress: '127.0.0.1:0', httpAddress: '127.0.0.1:0' },
        inbound: {
          issuers: [{ issuer: issuer.issuer, jwksFile: issuer.jwksFile, audiences: ['gateway'] }],
        },
        spicedb: { endpoint: db.endpoint, presharedKeyFile: 'key', timeoutMs: 2_000, ...spicedb },
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
    return startApp(config, { logger: testLogger('spicedb-tls') });
  }

  it('checks permissions when the server certificate verifies against caFile', async () => {
    const app = await start({ transport: 'tls', caFile: 'ca.pem' });
    const client = new AuthorizationClient(`127.0.0.1:${app.grpcPort}`);
    try {
      await app.whenReady(60_000);
      const issuer = await ensureDevIssuer(dir);
      const token = await issuer.mint({ sub: 'cloud-teleport-aleksander.rykalin' });
      const res = await client.check(
        syntheticCheckRequest({
          method: 'POST',
          path: '/v2/namespaces/cl0',
          headers: { authorization: `Bearer ${token}` },
        }),
      );
      expect(res.status?.code).toBe(status.OK);
    } finally {
      client.close();
      await app.shutdown();
    }
  });

  it.each([
    ['a certificate from another CA', { transport: 'tls', caFile: 'other-ca.pem' }],
    ['plaintext against a TLS server', { transport: 'plaintext' }],
  ])('stays not ready with %s, naming SpiceDB as unreachable', async (_what, spicedb) => {
    const app = await start(spicedb);
    try {
      const gate = app.readiness.report().gates.spicedb!;
      expect(gate.ready).toBe(false);
      expect(gate.detail).toMatch(/SpiceDB at 127\.0\.0\.1:\d+ (is unreachable|did not answer)/);
    } finally {
      await app.shutdown();
    }
  });
});
