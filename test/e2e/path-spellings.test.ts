import { writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
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
 * Finding 2 end to end: with `authorization.default: allow`, a protected route spelled another
 * way (`%2F`, `\`, `;params`, dot segments, double encoding) must never reach the app unchecked.
 * Real Envoy on envoy/ingress.yaml (normalize_path, merge_slashes, REJECT_REQUEST), and on its
 * HTTP-transport twin envoy/ingress-http.yaml (the check then travels as a plain HTTP request,
 * whose path jwtexchange reads back), real jwtexchange, real SpiceDB. Requests are written on a
 * raw socket: fetch would normalize them.
 */
let db: RunningSpiceDb;
let t: TestApp;
let upstream: EchoUpstream;

// One SpiceDB, one sidecar (both check listeners) and one app; an Envoy per transport.
beforeAll(async () => {
  db = await startSpiceDb({ relationships: EXAMPLE_RELATIONSHIPS });
  t = await startTestApp((_issuer, dir) => {
    writeFileSync(path.join(dir, 'spicedb.key'), db.presharedKey);
    return {
      server: { httpCheckAddress: '127.0.0.1:0', httpCheckTimeoutMs: 30_000 },
      spicedb: {
        endpoint: db.endpoint,
        transport: 'plaintext',
        presharedKeyFile: 'spicedb.key',
        timeoutMs: 2_000,
      },
      authorization: {
        default: 'allow',
        rules: [exampleRule('create-namespace')],
      },
    };
  });
  upstream = await startEchoUpstream();
});

afterAll(async () => {
  await upstream?.close();
  await t?.app.shutdown();
  await stopSpiceDb(db);
});

describe.each([
  ['gRPC', 'envoy/ingress.yaml'],
  ['HTTP', 'envoy/ingress-http.yaml'],
])('path spellings through a real Envoy, ext_authz over %s (%s)', (transport, file) => {
  let envoy: RunningEnvoy;
  let port: number;

  beforeAll(async () => {
    const checkPort = transport === 'HTTP' ? t.app.httpCheckPort! : t.app.grpcPort;
    envoy = await startEnvoy(
      renderEnvoyConfig(file, { clusters: { jwtexchange: checkPort, app: upstream.port } }),
    );
    port = envoy.port('ingress');
  });

  afterAll(async () => {
    await envoy?.stop();
  });

  /** POST with the request target written exactly as given; resolves with status and reason. */
  async function post(target: string, sub: string): Promise<{ status: number; reason?: string }> {
    const token = await t.issuer.mint({ sub });
    return new Promise((resolve, reject) => {
      const socket = net.connect(port, '127.0.0.1', () =>
        socket.write(
          `POST ${target} HTTP/1.1\r\nhost: gateway\r\nauthorization: Bearer ${token}\r\n` +
            'content-length: 2\r\nconnection: close\r\n\r\n{}',
        ),
      );
      let text = '';
      let done = false;
      // Resolve on a complete response: Envoy may hold a rejected connection open for a while.
      const finish = () => {
        if (done) return;
        const end = text.indexOf('\r\n\r\n');
        const length = Number(/\r\ncontent-length: (\d+)/i.exec(text)?.[1] ?? 0);
        if (end === -1 || text.length < end + 4 + length) return;
        done = true;
        socket.destroy();
        const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0);
        const reason = /\r\nx-jwtauth-reason: ([a-z_]+)/i.exec(text)?.[1];
        resolve({ status, ...(reason ? { reason } : {}) });
      };
      socket.on('data', (d: Buffer) => {
        text += d.toString('latin1');
        finish();
      });
      socket.on('error', (err) => (done ? undefined : reject(err)));
      socket.on('close', () => {
        if (!done) reject(new Error(`incomplete response: ${JSON.stringify(text)}`));
      });
    });
  }

  it.each([
    '/v2/namespaces/cl0',
    '//v2//namespaces//cl0/',
    '/v2/%6Eamespaces/%63l0',
    '/v2/x/../namespaces/./cl0',
    '/v2\\namespaces\\cl0',
  ])('checks %s like /v2/namespaces/cl0: the operator gets through', async (target) => {
    const before = upstream.seen.length;
    expect(await post(target, 'cloud-teleport-aleksander.rykalin')).toEqual({ status: 200 });
    expect(upstream.seen.length).toBe(before + 1);
    expect(upstream.seen.at(-1)!.path.replace(/\/$/, '')).toBe('/v2/namespaces/cl0');
  });

  it.each([
    '/v2/namespaces/cl0',
    '/v2%2Fnamespaces%2Fcl0',
    '/v2/namespaces%2Fcl0',
    '/v2%5Cnamespaces%5Ccl0',
    '/v2/namespaces%5ccl0',
    '/v2\\namespaces\\cl0',
    '/v2/namespaces;x=1/cl0',
    '/v2;/namespaces/cl0',
    '/v2/namespaces/cl0;jsessionid=1',
    '/v2/namespaces%3B/cl0',
    '/v2/namespaces/%2e%2E/namespaces/cl0',
    '/v2/namespaces%252Fcl0',
    '/v2/namespaces/cl%',
    '/./v2/..%2Fv2/namespaces/cl0',
    '/v2/namespaces/x/..%2F..%2Fcl0',
  ])('never lets %s reach the app for a caller without the permission', async (target) => {
    const before = upstream.seen.length;
    const res = await post(target, 'mallory');
    expect(upstream.seen.length, JSON.stringify(res)).toBe(before);
    // Envoy's own 400 (escaped slash), the sidecar's bad_request, or SpiceDB's no.
    expect([400, 403]).toContain(res.status);
    if (res.status === 403) expect(res.reason).toBe('permission_denied');
    if (res.reason && res.status === 400) expect(res.reason).toBe('bad_request');
  });
});
