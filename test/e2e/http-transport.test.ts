import { Metadata, status } from '@grpc/grpc-js';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/clock.js';
import { ROUTE_HEADER } from '../../src/envoy/http-check-request.js';
import { HEADERS_TO_REMOVE } from '../../src/envoy/http-check-response.js';
import { httpJwksLoader, JwksSource } from '../../src/jwt/jwks-source.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { startEchoUpstream, type EchoUpstream } from '../helpers/echo-upstream.js';
import { renderEnvoyConfig, startEnvoy, type RunningEnvoy } from '../helpers/envoy.js';
import { createNamespaceCaller } from '../helpers/grpc-caller.js';
import { reservePort, type ReservedPort } from '../helpers/ports.js';
import { startTestTokenExchange, type TestTokenExchange } from '../helpers/token-exchange.js';

/**
 * Envoy's HTTP ext_authz mode end to end: real Envoys on the shipped envoy/ingress-http.yaml and
 * envoy/egress-http.yaml, the real sidecar's HTTP check listener (server.httpCheckAddress), the
 * real dev issuer and the real token-exchange over mTLS. The same promises as the gRPC transport
 * (inbound.test.ts, outbound.test.ts): verified identity in, spoofs out, denials with reasons,
 * fail closed, service tokens injected on tagged routes only. path-spellings.test.ts runs its
 * cases over both transports.
 */

/** The sidecar's HTTP check listener on port 0, with Envoy's (stretched) timeout as its own. */
const HTTP_CHECK = { httpCheckAddress: '127.0.0.1:0', httpCheckTimeoutMs: 30_000 };

const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
afterAll(() => agent.destroy());

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** One request through an Envoy listener; header values given as arrays are sent repeated. */
function send(
  port: number,
  path: string,
  headers: Record<string, string | string[]> = {},
  method = 'GET',
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, method, agent, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('ext_authz over HTTP through real Envoys', () => {
  let sts: TestTokenExchange;
  let t: TestApp;
  let app: EchoUpstream;
  let vmcontroller: EchoUpstream;
  let ingress: RunningEnvoy;
  let egress: RunningEnvoy;
  let inPort: number;
  let outPort: number;

  beforeAll(async () => {
    sts = await startTestTokenExchange({ services: ['gateway', 'vmcontroller'], ttlSeconds: 600 });
    t = await startTestApp(() => ({
      server: HTTP_CHECK,
      outbound: {
        tokenExchange: {
          ...sts.clientSettings('gateway'),
          timeoutMs: 30_000,
        },
        audiences: [{ audience: 'vmcontroller' }],
      },
    }));
    expect(t.app.httpCheckPort).toBeGreaterThan(0);
    app = await startEchoUpstream();
    vmcontroller = await startEchoUpstream();
    ingress = await startEnvoy(
      renderEnvoyConfig('envoy/ingress-http.yaml', {
        clusters: { jwtexchange: t.app.httpCheckPort!, app: app.port },
      }),
    );
    egress = await startEnvoy(
      renderEnvoyConfig('envoy/egress-http.yaml', {
        clusters: { jwtexchange: t.app.httpCheckPort!, vmcontroller: vmcontroller.port },
      }),
    );
    inPort = ingress.port('ingress');
    outPort = egress.port('egress');
  });

  afterAll(async () => {
    await ingress?.stop();
    await egress?.stop();
    await app?.close();
    await vmcontroller?.close();
    await t?.app.shutdown();
    await sts?.close();
  });

  const seenBy = (u: EchoUpstream) => u.seen.at(-1)!;
  const bearer = async (sub: string) => `Bearer ${await t.issuer.mint({ sub })}`;

  describe('ingress (envoy/ingress-http.yaml)', () => {
    it('forwards the verified identity; spoofed identity and the route header never reach the app', async () => {
      const before = app.seen.length;
      const authorization = await bearer('cloud-teleport-aleksander.rykalin');
      const res = await send(inPort, '/v2/namespaces?page=2', {
        authorization,
        'x-jwtauth-subject': 'admin',
        'x-jwtauth-role': 'superuser',
        [ROUTE_HEADER]: 'jwtexchange.exempt=true',
      });
      expect(res.status).toBe(200);
      expect(app.seen.length).toBe(before + 1);
      const seen = seenBy(app);
      expect(seen.path).toBe('/v2/namespaces?page=2');
      const h = seen.headers;
      expect(h['x-jwtauth-subject']).toBe('cloud-teleport-aleksander.rykalin');
      expect(h['x-jwtauth-issuer']).toBe(t.issuer.issuer);
      expect(h['x-jwtauth-kind']).toBeDefined();
      const claims = JSON.parse(Buffer.from(String(h['x-jwtauth-claims']), 'base64url').toString());
      expect(claims).toMatchObject({ sub: 'cloud-teleport-aleksander.rykalin', aud: 'gateway' });
      expect(h['x-jwtauth-role']).toBeUndefined();
      expect(h[ROUTE_HEADER]).toBeUndefined();
      expect(h[HEADERS_TO_REMOVE]).toBeUndefined();
      expect(h.authorization).toBe(authorization);
    });

    it('denies a missing token with 401, the bearer challenge, the reason and the JSON body', async () => {
      const before = app.seen.length;
      const res = await send(inPort, '/v2/namespaces', { 'x-jwtauth-subject': 'admin' });
      expect(res.status).toBe(401);
      expect(res.headers['www-authenticate']).toBe('Bearer realm="jwtexchange"');
      expect(res.headers['x-jwtauth-reason']).toBe('missing_token');
      expect(res.headers['content-type']).toBe('application/json');
      expect(JSON.parse(res.body)).toMatchObject({ error: 'missing_token' });
      // Only the allowed headers of the answer reach the client.
      expect(res.headers[HEADERS_TO_REMOVE]).toBeUndefined();
      expect(res.headers['keep-alive']).toBeUndefined();
      expect(app.seen.length).toBe(before);
    });

    it('denies a token for another audience with 401 error="invalid_token"', async () => {
      const token = await t.issuer.mint({ sub: 'alice', aud: 'someone-else' });
      const res = await send(inPort, '/v2/namespaces', { authorization: `Bearer ${token}` });
      expect(res.status).toBe(401);
      expect(res.headers['www-authenticate']).toMatch(
        /^Bearer realm="jwtexchange", error="invalid_token", error_description="[^"]+"$/,
      );
      expect(res.headers['x-jwtauth-reason']).toBe('invalid_audience');
      expect(JSON.parse(res.body)).toMatchObject({ error: 'invalid_audience' });
    });

    it.each<[string, string | string[]]>([
      ['exempt', 'jwtexchange.exempt=true'],
      ['exempt, sent twice', ['jwtexchange.exempt=true', 'jwtexchange.exempt=true']],
      ['outbound', 'jwtexchange.direction=outbound'],
    ])(
      'ignores a client-sent route header (%s): a protected route still needs a token',
      async (_name, value) => {
        const before = app.seen.length;
        const res = await send(inPort, '/v2/namespaces', { [ROUTE_HEADER]: value });
        expect(res.status).toBe(401);
        expect(res.headers['x-jwtauth-reason']).toBe('missing_token');
        expect(app.seen.length).toBe(before);
      },
    );

    it('lets the exempt /healthz route through without a token, still stripping spoofs', async () => {
      const res = await send(inPort, '/healthz', {
        'x-jwtauth-subject': 'admin',
        'x-jwtauth-extra': 'x',
      });
      expect(res.status).toBe(200);
      const seen = seenBy(app);
      expect(seen.path).toBe('/healthz');
      expect(seen.headers['x-jwtauth-subject']).toBeUndefined();
      expect(seen.headers['x-jwtauth-extra']).toBeUndefined();
      expect(seen.headers[ROUTE_HEADER]).toBeUndefined();
    });

    it.each<[string, number, string | undefined]>([
      ['/./healthz', 200, '/healthz'],
      ['//healthz', 200, '/healthz'],
      ['/v2/../healthz', 200, '/healthz'],
      ['/healthz/../v2/namespaces', 401, undefined],
      ['/healthz/./../v2//namespaces', 401, undefined],
      ['/healthz/..%2Fv2', 400, undefined],
    ])(
      'routes %s on the normalized path (exempt only where the app sees /healthz)',
      async (target, want, appPath) => {
        const before = app.seen.length;
        const res = await send(inPort, target);
        expect(res.status).toBe(want);
        expect(app.seen.length).toBe(before + (appPath ? 1 : 0));
        if (appPath) expect(seenBy(app).path).toBe(appPath);
      },
    );

    it('denies a gRPC caller without a token as UNAUTHENTICATED, and lets one with a token through', async () => {
      const client = createNamespaceCaller(`127.0.0.1:${inPort}`);
      try {
        const denied = await client.call(new Metadata());
        expect(denied?.code).toBe(status.UNAUTHENTICATED);
        expect(denied?.details).toContain('missing_token');
        const md = new Metadata();
        md.set('authorization', await bearer('svc-user'));
        expect(await client.call(md)).toBeNull();
        expect(seenBy(app).protocol).toBe('h2');
        expect(seenBy(app).headers['x-jwtauth-subject']).toBe('svc-user');
        expect(seenBy(app).headers[ROUTE_HEADER]).toBeUndefined();
      } finally {
        client.close();
      }
    });
  });

  describe('egress (envoy/egress-http.yaml)', () => {
    const keys = () =>
      new JwksSource({
        name: 'sts',
        load: httpJwksLoader(sts.jwksUrl, 2_000, readFileSync(sts.pki.caFile)),
        clock: systemClock,
        refreshIntervalMs: 60_000,
        cooldownMs: 1_000,
        maxStaleMs: 60_000,
      });

    it('injects a service JWT for vmcontroller on the saga-tagged route, over the caller’s', async () => {
      const res = await send(
        outPort,
        '/v1/namespaces',
        { host: 'vmcontroller', 'x-saga-id': 'saga-1', authorization: 'Bearer spoofed' },
        'POST',
      );
      expect(res.status).toBe(200);
      const seen = seenBy(vmcontroller);
      expect(seen.headers['x-saga-id']).toBe('saga-1');
      expect(seen.headers[ROUTE_HEADER]).toBeUndefined();
      const auth = String(seen.headers.authorization);
      expect(auth).toMatch(/^Bearer ey/);
      const { payload } = await jwtVerify(auth.slice(7), keys().getKey, {
        issuer: sts.issuer,
        audience: 'vmcontroller',
      });
      expect(payload).toMatchObject({ sub: 'gateway', aud: 'vmcontroller' });
    });

    it('passes an untagged route through untouched', async () => {
      const res = await send(outPort, '/v1/namespaces', {
        host: 'vmcontroller',
        authorization: 'Bearer caller-token',
      });
      expect(res.status).toBe(200);
      const seen = seenBy(vmcontroller);
      expect(seen.headers.authorization).toBe('Bearer caller-token');
      expect(seen.headers[ROUTE_HEADER]).toBeUndefined();
    });

    it('gives no token to an app that names a tag itself in the route header', async () => {
      const before = vmcontroller.seen.length;
      const res = await send(outPort, '/v1/namespaces', {
        host: 'vmcontroller',
        [ROUTE_HEADER]: 'jwtexchange.direction=outbound&jwtexchange.audience=vmcontroller',
      });
      expect(res.status).toBe(200);
      expect(vmcontroller.seen.length).toBe(before + 1);
      expect(seenBy(vmcontroller).headers.authorization).toBeUndefined();
      expect(seenBy(vmcontroller).headers[ROUTE_HEADER]).toBeUndefined();
    });

    it('asks for a delegated token on the /v1/clusters/ saga route (refused here: no delegation)', async () => {
      const before = vmcontroller.seen.length;
      const res = await send(
        outPort,
        '/v1/clusters/cl0/namespaces',
        { host: 'vmcontroller', 'x-saga-id': 'saga-2' },
        'POST',
      );
      // The route's jwtexchange.delegation=saga reached the delegation phase: token-exchange
      // does not let gateway delegate in this test, so no call goes out.
      expect(res.headers['x-jwtauth-reason']).toMatch(/^delegation_/);
      expect(res.status).toBe(403);
      expect(vmcontroller.seen.length).toBe(before);
    });
  });

  describe('one sidecar, both transports', () => {
    let grpcIngress: RunningEnvoy;

    beforeAll(async () => {
      grpcIngress = await startEnvoy(
        renderEnvoyConfig('envoy/ingress.yaml', {
          clusters: { jwtexchange: t.app.grpcPort, app: app.port },
        }),
      );
    });

    afterAll(async () => {
      await grpcIngress?.stop();
    });

    it('answers the same way over gRPC and over HTTP at the same time', async () => {
      const authorization = await bearer('both-transports');
      const grpcPort = grpcIngress.port('ingress');
      const [viaGrpc, viaHttp, deniedGrpc, deniedHttp] = await Promise.all([
        send(grpcPort, '/v2/x', { authorization }),
        send(inPort, '/v2/x', { authorization }),
        send(grpcPort, '/v2/x'),
        send(inPort, '/v2/x'),
      ]);
      expect([viaGrpc.status, viaHttp.status]).toEqual([200, 200]);
      const subjects = app.seen.slice(-2).map((s) => s.headers['x-jwtauth-subject']);
      expect(subjects).toEqual(['both-transports', 'both-transports']);
      for (const d of [deniedGrpc, deniedHttp]) {
        expect(d.status).toBe(401);
        expect(d.headers['x-jwtauth-reason']).toBe('missing_token');
      }
      expect(deniedHttp.body).toBe(deniedGrpc.body);
    });
  });
});

describe('ext_authz over HTTP when jwtexchange is down', () => {
  let reserved: ReservedPort;
  let t: TestApp;
  let app: EchoUpstream;
  let envoy: RunningEnvoy;

  beforeAll(async () => {
    // The check listener's port outlives the sidecar: a reserved port (never handed out by the
    // kernel), so nothing else listens there once the sidecar is gone.
    reserved = await reservePort();
    t = await startTestApp(() => ({
      server: { ...HTTP_CHECK, httpCheckAddress: `127.0.0.1:${reserved.port}` },
    }));
    app = await startEchoUpstream();
    envoy = await startEnvoy(
      renderEnvoyConfig('envoy/ingress-http.yaml', {
        clusters: { jwtexchange: reserved.port, app: app.port },
      }),
    );
  });

  afterAll(async () => {
    await envoy?.stop();
    await app?.close();
    await t?.app.shutdown();
    reserved?.release();
  });

  it('answers 503 (status_on_error), with or without a token, and lets nothing through', async () => {
    const port = envoy.port('ingress');
    const authorization = `Bearer ${await t.issuer.mint({ sub: 'alice' })}`;
    expect((await send(port, '/v2/namespaces', { authorization })).status).toBe(200);
    await t.app.shutdown();
    const before = app.seen.length;
    const attempts: Record<string, string>[] = [
      { authorization },
      {},
      { [ROUTE_HEADER]: 'jwtexchange.exempt=true' },
    ];
    for (const headers of attempts) {
      const res = await send(port, '/v2/namespaces', headers);
      expect(res.status).toBe(503);
      expect(res.headers['x-jwtauth-reason']).toBeUndefined();
    }
    expect((await send(port, '/healthz')).status).toBe(503);
    expect(app.seen.length).toBe(before);
  });
});

describe("Envoy's deadline on an HTTP check", () => {
  let probe: http.Server;
  let app: EchoUpstream;
  let envoy: RunningEnvoy;
  const seen: http.IncomingHttpHeaders[] = [];

  beforeAll(async () => {
    // A probe in jwtexchange's place records what Envoy sends with a check, and allows it.
    probe = http.createServer((req, res) => {
      seen.push(req.headers);
      res.writeHead(200, { 'x-jwtauth-subject': 'probe', 'content-length': '0' }).end();
    });
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    app = await startEchoUpstream();
    const port = (probe.address() as { port: number }).port;
    envoy = await startEnvoy(
      renderEnvoyConfig('envoy/ingress-http.yaml', {
        clusters: { jwtexchange: port, app: app.port },
        keepTimeouts: true,
      }),
    );
  });

  afterAll(async () => {
    await envoy?.stop();
    await app?.close();
    probe?.closeAllConnections();
    await new Promise((r) => probe?.close(r));
  });

  it('is sent as x-envoy-expected-rq-timeout-ms, the timeout the shipped config sets', async () => {
    // src/server/http-check-server.ts reads it as the gRPC listener reads grpc-timeout.
    const res = await send(envoy.port('ingress'), '/v2/namespaces');
    expect(res.status).toBe(200);
    expect(seen.at(-1)?.['x-envoy-expected-rq-timeout-ms']).toBe('1000');
  });
});
