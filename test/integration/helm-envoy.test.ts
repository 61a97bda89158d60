import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml, stringify } from 'yaml';
import { createDevPki, type DevPki } from '../../src/pki/dev-pki.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { startEchoUpstream, type EchoUpstream } from '../helpers/echo-upstream.js';
import { validateEnvoyConfig } from '../helpers/envoy.js';
import { send } from '../helpers/faults.js';
import { pathSettingProblems } from '../helpers/envoy-path-settings.js';
import {
  helmTemplate,
  loopbackOnly,
  runRenderedEnvoy,
  writeEnvoyConfigMap,
  writeTlsSecretDir,
  type EnvoyProcess,
} from '../helpers/helm.js';
import { freePort } from '../helpers/ports.js';
import { scrapeMetrics } from '../helpers/prometheus.js';
import { startTestTokenExchange, type TestTokenExchange } from '../helpers/token-exchange.js';

/**
 * The Envoy config the chart renders, checked by Envoy itself: `envoy --mode validate` for every
 * ci/ scenario with either check transport, then a real Envoy running the rendered files in front
 * of the real jwtexchange. The TLS Secret is laid out in a temp dir from a freshly generated dev
 * PKI.
 */
const TRANSPORTS = ['grpc', 'http'] as const;
type Transport = (typeof TRANSPORTS)[number];
let dir: string;
let pki: DevPki;
let tlsDir: string;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'jwtx-helm-envoy-'));
  pki = await createDevPki({ outDir: path.join(dir, 'pki'), services: ['vmctl'] });
  tlsDir = writeTlsSecretDir(pki, path.join(dir, 'tls'));
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('envoy --mode validate', () => {
  it.each(
    ['default', 'demo-gateway', 'mtls', 'cert-manager'].flatMap((s) =>
      TRANSPORTS.map((t) => [s, t]),
    ),
  )(
    'accepts what ci/%s-values.yaml renders with checkTransport %s',
    async (scenario, transport) => {
      const objects = await helmTemplate({
        values: [`ci/${scenario}-values.yaml`],
        set: { 'jwtexchange.checkTransport': transport! },
      });
      const file = writeEnvoyConfigMap(
        objects,
        path.join(dir, `validate-${scenario}-${transport}`),
        tlsDir,
      );
      await expect(validateEnvoyConfig(file)).resolves.toContain('OK');
      // Every listener normalizes paths the way the authorization rules expect.
      expect(pathSettingProblems(parseYaml(readFileSync(file, 'utf8')))).toEqual([]);
    },
  );

  it('rejects a broken config (the check can fail)', async () => {
    const objects = await helmTemplate({ values: ['ci/default-values.yaml'] });
    const file = writeEnvoyConfigMap(objects, path.join(dir, 'broken'));
    writeFileSync(file, readFileSync(file, 'utf8').replace('cluster: app', 'cluster: nowhere'));
    await expect(validateEnvoyConfig(file)).rejects.toThrow(/nowhere/);
  });

  it('rejects a misspelt field of the HTTP transport (unknown fields are errors)', async () => {
    const objects = await helmTemplate({
      values: ['ci/default-values.yaml'],
      set: { 'jwtexchange.checkTransport': 'http' },
    });
    const file = writeEnvoyConfigMap(objects, path.join(dir, 'broken-http'));
    const text = readFileSync(file, 'utf8');
    expect(text).toContain('retry_policy:');
    writeFileSync(file, text.replace('retry_policy:', 'retry_polcy:'));
    await expect(validateEnvoyConfig(file)).rejects.toThrow(/retry_polcy/);
  });
});

interface Ports {
  ingress: number;
  egress: number;
  health: number;
  admin: number;
}

async function ports(): Promise<Ports> {
  return {
    ingress: await freePort(),
    egress: await freePort(),
    health: await freePort(),
    admin: await freePort(),
  };
}

/** The chart's jwtexchange ports and transport for a running test app. */
function checkValues(t: TestApp, transport: Transport): Record<string, unknown> {
  return {
    grpcPort: t.app.grpcPort,
    checkTransport: transport,
    ...(transport === 'http' ? { httpCheckPort: t.app.httpCheckPort } : {}),
  };
}

/**
 * The test app's HTTP check listener, when the transport needs it. Its timeout matches the
 * rendered Envoy's (30 s, not about timeouts), as the chart sets it in the pod.
 */
function checkServer(transport: Transport): Record<string, unknown> {
  return transport === 'http'
    ? { httpCheckAddress: '127.0.0.1:0', httpCheckTimeoutMs: 30_000 }
    : {};
}

/** A values file that points the chart's listeners and clusters at this test's processes. */
function testValues(
  p: Ports,
  check: Record<string, unknown>,
  appPort: number,
  extra: Record<string, unknown>,
): string {
  const file = path.join(dir, `values-${p.ingress}.yaml`);
  writeFileSync(
    file,
    stringify({
      jwtexchange: { ...check, ...(extra.jwtexchange as object) },
      envoy: {
        adminPort: p.admin,
        healthPort: p.health,
        // Not about timeouts: room for checks on a machine loaded far beyond its cores.
        extAuthzTimeout: '30s',
        ingress: { port: p.ingress, appPort, exempt: [{ path: '/healthz' }] },
        ...(extra.envoy as object),
        egress: {
          port: p.egress,
          upstreams: [],
          ...((extra.envoy as { egress?: object } | undefined)?.egress ?? {}),
          extAuthzTimeout: '30s',
        },
      },
    }),
  );
  return file;
}

describe.each(TRANSPORTS)(
  'a real Envoy on the demo gateway config (checkTransport %s)',
  (transport) => {
    let sts: TestTokenExchange;
    let t: TestApp;
    let echo: EchoUpstream;
    let envoy: EnvoyProcess;
    let p: Ports;

    beforeAll(async () => {
      // A real token-exchange over mTLS: the sidecar gets service tokens for vmcontroller only.
      sts = await startTestTokenExchange({ services: ['gateway', 'vmcontroller'] });
      t = await startTestApp(() => ({
        server: checkServer(transport),
        outbound: {
          tokenExchange: {
            ...sts.clientSettings('gateway'),
            timeoutMs: 30_000, // not about the deadline: room on a busy machine
          },
          audiences: [{ audience: 'vmcontroller' }],
        },
      }));
      echo = await startEchoUpstream();
      p = await ports();
      const upstreams = [
        {
          name: 'vmcontroller',
          address: '127.0.0.1',
          port: echo.port,
          routes: [
            { prefix: '/v1/namespaces', audience: 'vmcontroller', whenHeader: 'x-saga-id' },
            { prefix: '/v1/billing', audience: 'billing' },
            { prefix: '/' },
          ],
        },
        { name: 'billing', address: 'localhost', port: echo.port },
      ];
      const values = testValues(p, checkValues(t, transport), echo.port, {
        envoy: { egress: { port: p.egress, upstreams } },
        // The chart refuses a route whose audience its config does not allow; the running sidecar
        // (configured above, without billing) is what must refuse it here.
        jwtexchange: {
          config: {
            outbound: { audiences: [{ audience: 'vmcontroller' }, { audience: 'billing' }] },
          },
        },
      });
      const objects = await helmTemplate({ values: ['ci/demo-gateway-values.yaml', values] });
      const file = writeEnvoyConfigMap(objects, path.join(dir, `demo-${transport}`), tlsDir);
      loopbackOnly(file);
      envoy = await runRenderedEnvoy(file, p.health);
    });

    afterAll(async () => {
      await envoy?.stop();
      await echo?.close();
      await t?.app.shutdown();
      await sts?.close();
    });

    const ingress = (p2: string, headers: Record<string, string> = {}) =>
      fetch(`http://127.0.0.1:${p.ingress}${p2}`, { headers });
    // node:http, not fetch: fetch always sends the URL's host, and Host is what picks the upstream.
    const egress = (host: string, p2: string, headers: Record<string, string> = {}) =>
      send(p.egress, { host, path: p2, headers });

    it('exposes only /ready and /stats/prometheus of the admin interface', async () => {
      const ready = await fetch(`http://127.0.0.1:${p.health}/ready`);
      expect(ready.status).toBe(200);
      expect((await ready.text()).trim()).toBe('LIVE');
      const stats = await fetch(`http://127.0.0.1:${p.health}/stats/prometheus`);
      expect(await stats.text()).toContain('envoy_cluster_upstream_cx_total');
      expect((await fetch(`http://127.0.0.1:${p.health}/clusters`)).status).toBe(404);
      expect((await fetch(`http://127.0.0.1:${p.health}/quitquitquit`)).status).toBe(404);
    });

    it('checks inbound requests: no token 401, a valid token reaches the app with its identity', async () => {
      const before = echo.seen.length;
      const denied = await ingress('/v2/namespaces');
      expect(denied.status).toBe(401);
      expect(denied.headers.get('x-jwtauth-reason')).toBe('missing_token');
      expect(denied.headers.get('www-authenticate')).toMatch(/^Bearer /);
      expect(await denied.json()).toMatchObject({ error: 'missing_token' });
      expect(echo.seen.length).toBe(before);

      const token = await t.issuer.mint({ sub: 'alice' });
      const ok = await ingress('/v2/namespaces', {
        authorization: `Bearer ${token}`,
        'x-jwtauth-subject': 'admin',
      });
      expect(ok.status).toBe(200);
      expect(echo.seen.at(-1)!.headers['x-jwtauth-subject']).toBe('alice');
    });

    it('lets exempt routes through without a token, still stripping spoofed identity', async () => {
      const res = await ingress('/healthz', { 'x-jwtauth-subject': 'admin' });
      expect(res.status).toBe(200);
      expect(echo.seen.at(-1)!.path).toBe('/healthz');
      expect(echo.seen.at(-1)!.headers['x-jwtauth-subject']).toBeUndefined();
    });

    it('passes untagged egress routes through, picking the upstream by Host', async () => {
      const res = await egress('billing', '/v1/invoices');
      expect(res.status).toBe(200);
      const seen = echo.seen.at(-1)!;
      expect(seen.path).toBe('/v1/invoices');
      expect(seen.headers.host).toBe('localhost'); // auto_host_rewrite: the upstream's own name
      expect(seen.headers.authorization).toBeUndefined();
      expect((await egress('vmcontroller:8080', '/v1/vms')).status).toBe(200);
    });

    it('injects a service token on a saga-tagged route when the saga header is present', async () => {
      const res = await egress('vmcontroller', '/v1/namespaces', {
        'x-saga-id': 'saga-1',
        authorization: 'Bearer from-the-app',
      });
      expect(res.status).toBe(200);
      const seen = echo.seen.at(-1)!;
      expect(seen.path).toBe('/v1/namespaces');
      const token = String(seen.headers.authorization).replace(/^Bearer /, '');
      const claims = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString());
      expect(claims).toMatchObject({ sub: 'gateway', aud: 'vmcontroller', iss: sts.issuer });
    });

    it('passes the same route through untouched without the saga header (whenHeader)', async () => {
      const res = await egress('vmcontroller', '/v1/namespaces', { authorization: 'Bearer user' });
      expect(res.status).toBe(200);
      expect(echo.seen.at(-1)!.headers.authorization).toBe('Bearer user');
    });

    it('refuses a tagged route whose audience is not allowed, sending nothing upstream', async () => {
      const before = echo.seen.length;
      const res = await egress('vmcontroller', '/v1/billing/invoices');
      expect(res.status).toBe(403);
      expect(res.reason).toBe('audience_not_allowed');
      expect(echo.seen.length).toBe(before);
      const scrape = await scrapeMetrics(t.app.httpPort);
      expect(
        scrape.sum('jwtexchange_checks_total', { direction: 'outbound', reason: 'injected' }),
      ).toBe(1);
      expect(
        scrape.sum('jwtexchange_checks_total', { direction: 'outbound', reason: 'passthrough' }),
      ).toBeGreaterThanOrEqual(3);
    });

    it('answers 404 for a host that is not a configured upstream, without a check', async () => {
      const res = await egress('evil.example', '/');
      expect(res.status).toBe(404);
      expect(res.body).toContain('no upstream for this host');
    });

    it('never lets a client choose its route settings', async () => {
      const before = echo.seen.length;
      // An exempt route's settings, sent by the client on a checked route: still a 401.
      const res = await ingress('/v2/namespaces', {
        'x-jwtexchange-route': 'jwtexchange.exempt=true',
      });
      expect(res.status).toBe(401);
      expect(echo.seen.length).toBe(before);
      // An untagged egress route stays untagged: no service token for the app's own tag.
      const out = await egress('billing', '/v1/invoices', {
        'x-jwtexchange-route': 'jwtexchange.direction=outbound&jwtexchange.audience=vmcontroller',
      });
      expect(out.status).toBe(200);
      expect(echo.seen.at(-1)!.headers.authorization).toBeUndefined();
      if (transport === 'http') {
        // The route's own header is jwtexchange's: the upstream never sees it.
        expect(echo.seen.at(-1)!.headers['x-jwtexchange-route']).toBeUndefined();
        const token = await t.issuer.mint({ sub: 'alice' });
        await ingress('/v2/x', { authorization: `Bearer ${token}` });
        expect(echo.seen.at(-1)!.headers['x-jwtexchange-route']).toBeUndefined();
      }
    });

    it('removes client-sent x-jwtauth-* headers of any name, not only the known ones', async () => {
      const token = await t.issuer.mint({ sub: 'alice' });
      const res = await ingress('/v2/namespaces', {
        authorization: `Bearer ${token}`,
        'x-jwtauth-role': 'admin',
      });
      expect(res.status).toBe(200);
      const seen = echo.seen.at(-1)!.headers;
      expect(seen['x-jwtauth-subject']).toBe('alice');
      expect(seen['x-jwtauth-role']).toBeUndefined();
      const exempt = await ingress('/healthz', { 'x-jwtauth-role': 'admin' });
      expect(exempt.status).toBe(200);
      expect(echo.seen.at(-1)!.headers['x-jwtauth-role']).toBeUndefined();
    });
  },
);

describe('a real Envoy on the mTLS config', () => {
  let t: TestApp;
  let echo: EchoUpstream;
  let envoy: EnvoyProcess;
  let p: Ports;

  beforeAll(async () => {
    t = await startTestApp();
    echo = await startEchoUpstream();
    p = await ports();
    const values = testValues(p, checkValues(t, 'grpc'), echo.port, {
      envoy: {
        ingress: {
          port: p.ingress,
          appPort: echo.port,
          tls: { enabled: true, requireClientCertificate: true },
        },
      },
    });
    const objects = await helmTemplate({ values: ['ci/mtls-values.yaml', values] });
    const file = writeEnvoyConfigMap(objects, path.join(dir, 'mtls'), tlsDir);
    loopbackOnly(file);
    envoy = await runRenderedEnvoy(file, p.health);
  });

  afterAll(async () => {
    await envoy?.stop();
    await echo?.close();
    await t?.app.shutdown();
  });

  const get = (client?: { certFile: string; keyFile: string }) =>
    new Promise<number>((resolve, reject) => {
      const req = https.get(
        {
          host: '127.0.0.1',
          port: p.ingress,
          path: '/v2/namespaces',
          ca: readFileSync(pki.caFile),
          ...(client
            ? { cert: readFileSync(client.certFile), key: readFileSync(client.keyFile) }
            : {}),
        },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('error', reject);
    });

  it('loads the certificate from the SDS files and requires a client certificate', async () => {
    await expect(get()).rejects.toThrow();
    // With a certificate from the same CA the TLS handshake succeeds and the check runs: 401.
    expect(await get(pki.clients.vmctl)).toBe(401);
  });
});
