import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { Metadata, status } from '@grpc/grpc-js';
import { createNamespaceCaller } from '../helpers/grpc-caller.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { startEchoUpstream, type EchoUpstream } from '../helpers/echo-upstream.js';
import { renderEnvoyConfig, startEnvoy, type RunningEnvoy } from '../helpers/envoy.js';
import {
  EXAMPLE_RELATIONSHIPS,
  exampleRule,
  startSpiceDb,
  stopSpiceDb,
  type RunningSpiceDb,
} from '../helpers/spicedb.js';

/**
 * user token → Envoy (envoy/ingress.yaml) → jwtexchange: inbound validation → SpiceDB check
 * (real spicedb serve) → the app, or 403 with nothing reaching the app.
 */
describe('authorization through a real Envoy and a real SpiceDB', () => {
  let db: RunningSpiceDb;
  let t: TestApp;
  let upstream: EchoUpstream;
  let envoy: RunningEnvoy;
  let port: number;
  let base: string;

  beforeAll(async () => {
    db = await startSpiceDb({ relationships: EXAMPLE_RELATIONSHIPS });
    t = await startTestApp((_issuer, dir) => {
      writeFileSync(path.join(dir, 'spicedb.key'), db.presharedKey);
      return {
        spicedb: {
          endpoint: db.endpoint,
          transport: 'plaintext',
          presharedKeyFile: 'spicedb.key',
          // Generous: these tests are not about the deadline, and the machine may be very busy.
          timeoutMs: 10_000,
        },
        authorization: {
          default: 'deny',
          rules: [exampleRule('create-namespace'), exampleRule('create-namespace-grpc')],
        },
      };
    });
    upstream = await startEchoUpstream();
    envoy = await startEnvoy(
      renderEnvoyConfig('envoy/ingress.yaml', {
        clusters: { jwtexchange: t.app.grpcPort, app: upstream.port },
      }),
    );
    port = envoy.port('ingress');
    base = `http://127.0.0.1:${port}`;
  });

  afterAll(async () => {
    await envoy?.stop();
    await upstream?.close();
    await t?.app.shutdown();
    await stopSpiceDb(db);
  });

  const post = async (sub: string, cluster: string, headers: Record<string, string> = {}) =>
    fetch(`${base}/v2/namespaces/${cluster}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await t.issuer.mint({ sub })}`, ...headers },
      body: '{}',
    });

  it('allows the Teleport operator to create a namespace in cl0, handing the app the encoded subject', async () => {
    const before = upstream.seen.length;
    const res = await post('cloud-teleport-aleksander.rykalin', 'cl0', {
      'x-jwtauth-spicedb-subject': 'user:admin',
    });
    expect(res.status).toBe(200);
    expect(upstream.seen.length).toBe(before + 1);
    const seen = upstream.seen.at(-1)!;
    expect(seen.path).toBe('/v2/namespaces/cl0');
    expect(seen.headers['x-jwtauth-spicedb-subject']).toBe(
      'user:cloud-teleport-aleksander=2Erykalin',
    );
    expect(seen.headers['x-jwtauth-subject']).toBe('cloud-teleport-aleksander.rykalin');
  });

  it('answers 403 permission_denied and forwards nothing when SpiceDB says no', async () => {
    const before = upstream.seen.length;
    const res = await post('mallory', 'cl0');
    expect(res.status).toBe(403);
    expect(res.headers.get('x-jwtauth-reason')).toBe('permission_denied');
    expect(await res.json()).toMatchObject({ error: 'permission_denied' });
    const elsewhere = await post('cloud-teleport-aleksander.rykalin', 'cl1');
    expect(elsewhere.status).toBe(403);
    expect(upstream.seen.length).toBe(before);
  });

  it('answers 403 no_matching_rule for routes no rule covers (default deny)', async () => {
    const before = upstream.seen.length;
    const res = await fetch(`${base}/v2/secrets`, {
      headers: { authorization: `Bearer ${await t.issuer.mint({ sub: 'alice' })}` },
    });
    expect(res.status).toBe(403);
    expect(res.headers.get('x-jwtauth-reason')).toBe('no_matching_rule');
    expect(upstream.seen.length).toBe(before);
  });

  it('still authenticates first: no token is 401, not a SpiceDB question', async () => {
    const res = await fetch(`${base}/v2/namespaces/cl0`, { method: 'POST' });
    expect(res.status).toBe(401);
    expect(res.headers.get('x-jwtauth-reason')).toBe('missing_token');
  });

  it('checks gRPC CreateNamespace with the cluster from a header: OK, or PERMISSION_DENIED', async () => {
    const client = createNamespaceCaller(`127.0.0.1:${port}`);
    const call = async (sub: string, cluster: string) => {
      const md = new Metadata();
      md.set('authorization', `Bearer ${await t.issuer.mint({ sub })}`);
      md.set('x-cluster', cluster);
      return client.call(md);
    };
    try {
      expect(await call('alice', 'cl0')).toBeNull();
      expect(upstream.seen.at(-1)!.headers['x-jwtauth-spicedb-subject']).toBe('user:alice');
      const denied = await call('mallory', 'cl0');
      expect(denied?.code).toBe(status.PERMISSION_DENIED);
      expect(denied?.details).toContain('permission_denied');
    } finally {
      client.close();
    }
  });
});
