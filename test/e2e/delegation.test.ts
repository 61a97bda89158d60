import { mkdtempSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeSagaRelations } from '../../src/sagas/saga-relations.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { startEchoUpstream, type EchoUpstream } from '../helpers/echo-upstream.js';
import { renderEnvoyConfig, startEnvoy, type RunningEnvoy } from '../helpers/envoy.js';
import { freePort } from '../helpers/ports.js';
import {
  EXAMPLE_RELATIONSHIPS,
  startSpiceDb,
  stopSpiceDb,
  type RunningSpiceDb,
} from '../helpers/spicedb.js';
import { startTestTokenExchange, type TestTokenExchange } from '../helpers/token-exchange.js';

/**
 * Saga delegation end to end through real Envoys (docs/delegation.md):
 *
 *   saga ─► Envoy egress ─► Envoy ingress ─► vmcontroller (echo)
 *             │ gateway's jwtexchange     │ vmcontroller's jwtexchange: verify, SpiceDB rules
 *             ▼                           ▼
 *        token-exchange (mTLS) ◄── SpiceDB (saga relations, cloud:cl0 membership)
 */
const TELEPORT_USER = 'cloud-teleport-aleksander.rykalin';

describe('saga-delegated tokens through real Envoys', () => {
  let db: RunningSpiceDb;
  let sts: TestTokenExchange;
  let gateway: TestApp;
  let vmSide: TestApp;
  let upstream: EchoUpstream;
  const envoys: RunningEnvoy[] = [];
  let egressPort: number;
  let sagas = 0;

  const saga = async (initiator: string) => {
    const sagaId = `saga-e2e-${++sagas}`;
    await writeSagaRelations(db.client, {
      sagaId,
      initiator,
      executor: 'gateway',
      expiresAt: new Date(Date.now() + 600_000),
    });
    return sagaId;
  };

  beforeAll(async () => {
    db = await startSpiceDb({ relationships: EXAMPLE_RELATIONSHIPS });
    const keyFile = path.join(mkdtempSync(path.join(tmpdir(), 'jwtx-deleg-')), 'spicedb.key');
    writeFileSync(keyFile, db.presharedKey, { mode: 0o600 });
    const spicedb = {
      endpoint: db.endpoint,
      transport: 'plaintext',
      presharedKeyFile: keyFile,
      timeoutMs: 2_000,
    };
    sts = await startTestTokenExchange({
      services: ['gateway', 'vmcontroller'],
      delegate: ['gateway'],
      audiences: { gateway: ['vmcontroller'], vmcontroller: [] },
      extra: { sagas: { spicedb } },
    });
    gateway = await startTestApp(() => ({
      outbound: {
        tokenExchange: {
          ...sts.clientSettings('gateway'),
        },
        audiences: [{ audience: 'vmcontroller' }],
      },
    }));
    vmSide = await startTestApp(() => ({
      inbound: {
        issuers: [
          {
            issuer: sts.issuer,
            jwksUri: sts.jwksUrl,
            jwksCaFile: sts.pki.caFile,
            audiences: ['vmcontroller'],
          },
        ],
      },
      spicedb,
      authorization: {
        default: 'allow',
        rules: [
          // The user the saga acts for must be allowed to create namespaces in the cluster…
          {
            name: 'namespaces-for-the-user',
            match: { http: 'POST /v1/clusters/{cluster}/namespaces' },
            resource: { type: 'cloud', id: { param: 'cluster' } },
            permission: 'create_saga',
          },
          // …while infrastructure work is the acting service's business.
          {
            name: 'vms-by-the-service',
            match: { http: 'POST /v1/clusters/{cluster}/vms' },
            resource: { type: 'cloud', id: { param: 'cluster' } },
            permission: 'manage_namespaces',
            subject: { from: 'actor' },
          },
        ],
      },
    }));
    upstream = await startEchoUpstream();
    const ingressPort = await freePort();
    envoys.push(
      await startEnvoy(
        renderEnvoyConfig('envoy/ingress.yaml', {
          listeners: { ingress: ingressPort },
          clusters: { jwtexchange: vmSide.app.grpcPort, app: upstream.port },
        }),
      ),
    );
    egressPort = await freePort();
    envoys.push(
      await startEnvoy(
        renderEnvoyConfig('envoy/egress.yaml', {
          listeners: { egress: egressPort },
          clusters: { jwtexchange: gateway.app.grpcPort, vmcontroller: ingressPort },
        }),
      ),
    );
  }, 60_000);

  afterAll(async () => {
    for (const e of envoys) await e.stop();
    await upstream?.close();
    await gateway?.app.shutdown();
    await vmSide?.app.shutdown();
    await sts?.close();
    await stopSpiceDb(db);
  });

  /** What the saga does: POST through the egress listener with Host vmcontroller. */
  const call = (urlPath: string, headers: Record<string, string>) =>
    new Promise<{ status: number; reason: string | undefined }>((resolve, reject) => {
      const req = http.request(
        {
          host: '127.0.0.1',
          port: egressPort,
          path: urlPath,
          method: 'POST',
          headers: { host: 'vmcontroller', 'content-type': 'application/json', ...headers },
        },
        (res) => {
          res.resume();
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              reason: res.headers['x-jwtauth-reason'] as string | undefined,
            }),
          );
        },
      );
      req.on('error', reject);
      req.end('{}');
    });

  const lastSeen = (urlPath: string) => upstream.seen.findLast((r) => r.path === urlPath);

  it('delivers the user as subject, the gateway as actor and the saga, overwriting spoofed values', async () => {
    const sagaId = await saga('user:cloud-teleport-aleksander=2Erykalin');
    const res = await call('/v1/clusters/cl0/namespaces', {
      'x-saga-id': sagaId,
      authorization: 'Bearer app-token',
      'x-jwtauth-actor': 'spoofed',
      'x-jwtauth-saga': 'someone-elses-saga',
    });
    expect(res.status).toBe(200);
    const seen = lastSeen('/v1/clusters/cl0/namespaces')!;
    expect(seen.headers).toMatchObject({
      'x-jwtauth-subject': TELEPORT_USER,
      'x-jwtauth-actor': 'gateway',
      'x-jwtauth-saga': sagaId,
      'x-jwtauth-kind': 'user',
      'x-jwtauth-spicedb-subject': 'user:cloud-teleport-aleksander=2Erykalin',
    });
    const claims = decodeJwt(String(seen.headers.authorization).slice('Bearer '.length));
    expect(claims).toMatchObject({
      sub: TELEPORT_USER,
      act: { sub: 'gateway' },
      saga: sagaId,
      aud: 'vmcontroller',
    });
  });

  it('checks the user or the actor, as each rule says', async () => {
    const mallorys = await saga('user:mallory');
    // mallory is no member of cl0: the user rule refuses her saga at vmcontroller's sidecar…
    const denied = await call('/v1/clusters/cl0/namespaces', { 'x-saga-id': mallorys });
    expect(denied).toEqual({ status: 403, reason: 'permission_denied' });
    // …while the actor rule asks about the gateway, an operator of cl0.
    const allowed = await call('/v1/clusters/cl0/vms', { 'x-saga-id': mallorys });
    expect(allowed.status).toBe(200);
    expect(lastSeen('/v1/clusters/cl0/vms')!.headers['x-jwtauth-subject']).toBe('mallory');
  });

  it('refuses a saga whose relations were never written, before anything reaches vmcontroller', async () => {
    const before = upstream.seen.length;
    const res = await call('/v1/clusters/cl0/namespaces', { 'x-saga-id': 'saga-never-written' });
    expect(res).toEqual({ status: 403, reason: 'delegation_refused' });
    expect(upstream.seen.length).toBe(before);
  });

  it('refuses a saga id that is not a short SpiceDB-safe id', async () => {
    const res = await call('/v1/clusters/cl0/namespaces', { 'x-saga-id': 'saga.1' });
    expect(res).toEqual({ status: 400, reason: 'invalid_saga_id' });
  });

  it('strips a spoofed actor from requests whose token has none (plain service token)', async () => {
    const res = await call('/v1/namespaces', {
      'x-saga-id': 'saga-x',
      'x-jwtauth-actor': 'spoofed',
      'x-jwtauth-saga': 'spoofed',
    });
    expect(res.status).toBe(200);
    const seen = lastSeen('/v1/namespaces')!;
    expect(seen.headers['x-jwtauth-subject']).toBe('gateway');
    expect(seen.headers['x-jwtauth-actor']).toBeUndefined();
    expect(seen.headers['x-jwtauth-saga']).toBeUndefined();
  });
});
