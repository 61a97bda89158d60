import { copyFileSync, readFileSync } from 'node:fs';
import http from 'node:http';
import { jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuthorizationClient, syntheticCheckRequest } from '../../src/envoy/client.js';
import { httpJwksLoader, JwksSource } from '../../src/jwt/jwks-source.js';
import { systemClock } from '../../src/clock.js';
import { ManualClock, ManualTimers } from '../helpers/manual-time.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { startEchoUpstream, type EchoUpstream } from '../helpers/echo-upstream.js';
import { renderEnvoyConfig, startEnvoy, type RunningEnvoy } from '../helpers/envoy.js';
import { waitFor } from '../helpers/ports.js';
import { startTestTokenExchange, type TestTokenExchange } from '../helpers/token-exchange.js';

/**
 * The heart of the fix, end to end: a saga's call leaves the gateway through a real Envoy
 * (envoy/egress.yaml), jwtexchange injects a service JWT from the real token-exchange over mTLS.
 */
type Cache = {
  refreshAt?: number;
  jitter?: number;
  safetyMarginSeconds?: number;
  minBackoffMs?: number;
  maxBackoffMs?: number;
};

function outboundConfig(
  sts: TestTokenExchange,
  cache: Cache = {},
  audiences: { audience: string; prefetch?: boolean }[] = [{ audience: 'vmcontroller' }],
) {
  return {
    tokenExchange: {
      ...sts.clientSettings('gateway'),
      timeoutMs: 30_000, // not about the deadline: room on a busy machine
    },
    audiences,
    cache,
  };
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

function call(
  port: number,
  headers: Record<string, string>,
): Promise<{ status: number; reason?: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        path: '/v1/namespaces',
        method: 'POST',
        agent,
        headers: { host: 'vmcontroller', ...headers },
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
}

async function load(
  port: number,
  total: number,
  concurrency: number,
): Promise<Map<number, number>> {
  const statuses = new Map<number, number>();
  let next = 0;
  const worker = async () => {
    while (next < total) {
      next++;
      const { status } = await call(port, { 'x-saga-id': `saga-${next}` });
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return statuses;
}

async function metric(t: TestApp, name: string): Promise<number> {
  return metricWith(t, name, {});
}

/** Sum of a metric's samples whose labels include `labels`. */
async function metricWith(
  t: TestApp,
  name: string,
  labels: Record<string, string>,
): Promise<number> {
  const text = await t.app.metrics.registry.getSingleMetricAsString(name);
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  return text
    .split('\n')
    .filter((l) => l.startsWith(name) && wanted.every((w) => l.includes(w)))
    .reduce((sum, l) => sum + Number(l.split(' ').at(-1)), 0);
}

describe('outbound injection through a real Envoy and the real token-exchange', () => {
  let sts: TestTokenExchange;
  let t: TestApp;
  let upstream: EchoUpstream;
  let envoy: RunningEnvoy;
  let port: number;

  beforeAll(async () => {
    sts = await startTestTokenExchange({ services: ['gateway', 'vmcontroller'], ttlSeconds: 600 });
    // Time stands still for the sidecar (ManualClock): no refresh falls due during the load
    // test however long a busy machine makes it take.
    const clock = new ManualClock(Date.now());
    t = await startTestApp(() => ({ outbound: outboundConfig(sts) }), {
      clock,
      timers: new ManualTimers(clock),
    });
    upstream = await startEchoUpstream();
    envoy = await startEnvoy(
      renderEnvoyConfig('envoy/egress.yaml', {
        clusters: { jwtexchange: t.app.grpcPort, vmcontroller: upstream.port },
      }),
    );
    port = envoy.port('egress');
  });

  afterAll(async () => {
    agent.destroy();
    await envoy?.stop();
    await upstream?.close();
    await t?.app.shutdown();
    await sts?.close();
  });

  it('injects a service JWT on the saga-tagged route: sub=gateway, aud=vmcontroller, verified by JWKS', async () => {
    const res = await call(port, { 'x-saga-id': 'saga-1', authorization: 'Bearer spoofed' });
    expect(res.status).toBe(200);
    const seen = upstream.seen.at(-1)!;
    expect(seen.headers['x-saga-id']).toBe('saga-1');
    const auth = String(seen.headers.authorization);
    expect(auth).toMatch(/^Bearer ey/);
    const keys = new JwksSource({
      name: 'sts',
      load: httpJwksLoader(sts.jwksUrl, 2_000, readFileSync(sts.pki.caFile)),
      clock: systemClock,
      refreshIntervalMs: 60_000,
      cooldownMs: 1_000,
      maxStaleMs: 60_000,
    });
    const { payload, protectedHeader } = await jwtVerify(auth.slice(7), keys.getKey, {
      issuer: sts.issuer,
      audience: 'vmcontroller',
    });
    expect(protectedHeader.typ).toBe('at+jwt');
    expect(payload).toMatchObject({ sub: 'gateway', client_id: 'gateway', aud: 'vmcontroller' });
  });

  it('lets an untagged route through unchanged', async () => {
    const res = await call(port, { authorization: 'Bearer caller-token' });
    expect(res.status).toBe(200);
    const seen = upstream.seen.at(-1)!;
    expect(seen.headers.authorization).toBe('Bearer caller-token');
    expect(seen.headers['x-saga-id']).toBeUndefined();
  });

  it('refuses an audience that is not on the allowlist, with a clear reason and the details in the log', async () => {
    const client = new AuthorizationClient(t.grpcAddress);
    const res = await client.check(
      syntheticCheckRequest({
        extensions: { 'jwtexchange.direction': 'outbound', 'jwtexchange.audience': 'billing' },
      }),
    );
    client.close();
    expect(res.status.code).not.toBe(0);
    expect(res.status.message).toBe(
      'audience_not_allowed: this route may not carry a service token',
    );
    expect(
      t.logs.some((l) => l.includes('audience \\"billing\\" is not on outbound.audiences')),
    ).toBe(true);
  });

  it('serves 5,000 tagged requests from one cached token, with no waits', async () => {
    const before = sts.requestCount();
    const statuses = await load(port, 5_000, 32);
    expect(statuses.get(200), JSON.stringify([...statuses])).toBe(5_000);
    // Tokens live 600 s and the sidecar's clock does not move: not one more token request.
    expect(sts.requestCount() - before).toBe(0);
    expect(await metric(t, 'jwtexchange_service_token_waits_total')).toBe(0);
    expect(await metric(t, 'jwtexchange_service_token_exchanges_total')).toBeLessThanOrEqual(2);
  });
});

describe('token-exchange outage and recovery', () => {
  it('keeps injecting the cached token until the safety margin, then 503, then recovers by itself', async () => {
    // The sidecar and token-exchange share a ManualClock (and the sidecar's refresh and backoff
    // timers run on it): the outage is walked through by hand, so however slow the machine is,
    // no token expires early or late. Tokens live 300 s, refresh at 150 s, usable until 270 s.
    const clock = new ManualClock(Date.now());
    const timers = new ManualTimers(clock);
    const sts = await startTestTokenExchange({
      services: ['gateway', 'vmcontroller'],
      ttlSeconds: 300,
      clock,
    });
    const t = await startTestApp(
      () => ({
        outbound: outboundConfig(sts, { refreshAt: 0.5, jitter: 0, safetyMarginSeconds: 30 }),
      }),
      { clock, timers },
    );
    const upstream = await startEchoUpstream();
    const envoy = await startEnvoy(
      renderEnvoyConfig('envoy/egress.yaml', {
        clusters: { jwtexchange: t.app.grpcPort, vmcontroller: upstream.port },
      }),
    );
    const port = envoy.port('egress');
    const saga = () => call(port, { 'x-saga-id': 's' });
    const refreshes = (result: string) =>
      metricWith(t, 'jwtexchange_service_token_refreshes_total', { result });
    try {
      expect((await saga()).status).toBe(200);
      await sts.stop();
      // Still served from cache while token-exchange is down…
      expect((await saga()).status).toBe(200);
      // …past the refresh point, where the background refresh fails: served stale…
      await timers.advance(151_000);
      await waitFor(async () => (await refreshes('failure')) >= 1, 'a failed refresh');
      expect((await saga()).status).toBe(200);
      expect(await metric(t, 'jwtexchange_service_token_served_stale_total')).toBeGreaterThan(0);
      // …until exp minus the margin: then a clear 503.
      await timers.advance(120_000);
      const denied = await saga();
      expect(denied.status).toBe(503);
      expect(denied.reason).toBe('service_token_unavailable');
      // token-exchange is back: the background retry picks it up without a restart.
      await sts.start();
      await timers.advance(30_000); // the longest backoff (outbound.cache.maxBackoffMs)
      await waitFor(async () => (await refreshes('success')) >= 1, 'a successful refresh');
      expect((await saga()).status).toBe(200);
    } finally {
      await envoy.stop();
      await upstream.close();
      await t.app.shutdown();
      await sts.close();
    }
  });
});

describe('client certificate rotation', () => {
  it('uses rotated certificate files on the next exchange, without a restart', async () => {
    const sts = await startTestTokenExchange({
      services: ['gateway', 'vmcontroller', 'gateway-next'],
    });
    const gw = sts.pki.clients.gateway!;
    const t = await startTestApp(() => ({
      outbound: outboundConfig(sts, {}, [
        { audience: 'vmcontroller', prefetch: true },
        { audience: 'gateway-next', prefetch: false },
      ]),
    }));
    const client = new AuthorizationClient(t.grpcAddress);
    const injectedSub = async (audience: string) => {
      const res = await client.check(
        syntheticCheckRequest({
          extensions: { 'jwtexchange.direction': 'outbound', 'jwtexchange.audience': audience },
        }),
      );
      const auth = res.ok_response!.headers.find((h) => h.header.key === 'authorization')!.header
        .value;
      return JSON.parse(Buffer.from(auth.split('.')[1]!, 'base64url').toString()).sub as string;
    };
    try {
      expect(await injectedSub('vmcontroller')).toBe('gateway');
      // The Secret is renewed: new certificate and key land at the same paths.
      const next = sts.pki.clients['vmcontroller']!;
      copyFileSync(next.certFile, gw.certFile);
      copyFileSync(next.keyFile, gw.keyFile);
      // The next exchange (a token not cached yet) presents the new certificate.
      expect(await injectedSub('gateway-next')).toBe('vmcontroller');
    } finally {
      client.close();
      await t.app.shutdown();
      await sts.close();
    }
  });
});
