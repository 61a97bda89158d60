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
  let caCert: string;
  let nameOnly: { cert: string; key: string };
  // Node 26, which the image runs, refuses an IP address as the TLS server name (DEP0123 is an
  // error there); Node 20 and 22 only warn. SpiceDB listens on 127.0.0.1: the warnings are the
  // connections Node 26 would have refused.
  const ipServerNames: string[] = [];
  const onWarning = (w: Error & { code?: string }) => {
    if (w.code === 'DEP0123') ipServerNames.push(w.message);
  };

  beforeAll(async () => {
    process.on('warning', onWarning);
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
    caCert = ca.cert;
    nameOnly = await issueLeaf(ca, {
      commonName: 'spicedb',
      dnsNames: ['localhost'],
      usage: 'server',
    });
    writeFileSync(path.join(dir, 'key'), db.presharedKey);
  });

  afterAll(async () => {
    await stopSpiceDb(db);
    process.off('warning', onWarning);
  });

  async function start(
    spicedb: Record<string, unknown>,
    endpoint = db.endpoint,
  ): Promise<RunningApp> {
    const issuer = await ensureDevIssuer(dir);
    const config = parseConfig(
      {
        server: { grpcAddress: '127.0.0.1:0', httpAddress: '127.0.0.1:0' },
        inbound: {
          issuers: [{ issuer: issuer.issuer, jwksFile: issuer.jwksFile, audiences: ['gateway'] }],
        },
        spicedb: { endpoint, presharedKeyFile: 'key', timeoutMs: 2_000, ...spicedb },
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

  it('still checks the certificate names the IP address it was reached at', async () => {
    // The handshake cannot name an IP, but the certificate is still held to it: one from the
    // right CA for `localhost` only is refused at 127.0.0.1.
    const other = await startSpiceDb({
      relationships: EXAMPLE_RELATIONSHIPS,
      presharedKey: db.presharedKey,
      tls: { ...nameOnly, ca: caCert, name: 'localhost' },
    });
    try {
      const app = await start({ transport: 'tls', caFile: 'ca.pem' }, other.endpoint);
      try {
        const gate = app.readiness.report().gates.spicedb!;
        expect(gate.ready).toBe(false);
        expect(gate.detail).toMatch(/is unreachable/);
      } finally {
        await app.shutdown();
      }
    } finally {
      await stopSpiceDb(other);
    }
  });

  it('named no IP address as the TLS server name, which Node 26 refuses (last: after every connection)', () => {
    expect(ipServerNames).toEqual([]);
  });
});
