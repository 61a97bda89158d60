import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXPLAIN_REQUEST_KEY, EXPLAIN_TRAILER_KEY } from '../../src/envoy/explanation-trailer.js';
import { createCheckRunner } from '../../src/check/check-runner.js';
import { createCheckHandler } from '../../src/check/handler.js';
import { InFlight } from '../../src/check/in-flight.js';
import { AuthorizationClient, syntheticCheckRequest } from '../../src/envoy/client.js';
import type { CheckRequest, CheckResponse } from '../../src/envoy/types.js';
import type { Call, Trailers, UnaryCallback } from '../../src/grpc/calls.js';
import { setServing, startGrpcServer, type GrpcServer } from '../../src/server/grpc-server.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { startEchoUpstream, type EchoUpstream } from '../helpers/echo-upstream.js';
import { renderEnvoyConfig, startEnvoy, type RunningEnvoy } from '../helpers/envoy.js';

/**
 * The design of `check --explain` holds behind a real Envoy: the explanation is asked for with
 * call metadata on the Check RPC, which Envoy's ext_authz client never sets from a client's
 * headers, and comes back in a trailer, which Envoy drops. A client that sends the header gets
 * no explanation, and nothing of one reaches it or the app. The real Check handler runs behind a
 * probe that records the explanation header of the calls Envoy sent and the trailers the handler
 * returned.
 */
describe('explanations behind a real Envoy', () => {
  let t: TestApp;
  let probe: GrpcServer;
  let upstream: EchoUpstream;
  let envoy: RunningEnvoy;
  let base: string;
  /** Each call's explanation request header (call metadata), as the handler reads it. */
  const asked: (string | undefined)[] = [];
  const trailers: (Trailers | undefined)[] = [];

  beforeAll(async () => {
    t = await startTestApp();
    const check = createCheckHandler(createCheckRunner(t.app.deps, new InFlight()));
    probe = await startGrpcServer(
      '127.0.0.1:0',
      (call: Call<CheckRequest>, callback: UnaryCallback<CheckResponse>) => {
        asked.push(call.header(EXPLAIN_REQUEST_KEY));
        check(call, (err, value, trailer) => {
          trailers.push(trailer);
          callback(err, value, trailer);
        });
      },
    );
    setServing(probe.health, true);
    upstream = await startEchoUpstream();
    envoy = await startEnvoy(
      renderEnvoyConfig('envoy/ingress.yaml', {
        clusters: { jwtexchange: probe.port, app: upstream.port },
      }),
    );
    const port = envoy.port('ingress');
    base = `http://127.0.0.1:${port}`;
  });

  afterAll(async () => {
    await envoy?.stop();
    await upstream?.close();
    probe?.server.forceShutdown();
    await t?.app.shutdown();
  });

  it('answers a direct caller that asks with call metadata (the probe can explain)', async () => {
    const client = new AuthorizationClient(`127.0.0.1:${probe.port}`);
    try {
      const { steps } = await client.checkExplained(syntheticCheckRequest({}));
      expect(steps?.map((s) => s.phase)).toEqual(['request', 'exempt', 'authenticate', 'decision']);
      expect(asked.at(-1)).toBe('true');
      expect(trailers.at(-1)?.[EXPLAIN_TRAILER_KEY]).toEqual(expect.any(String));
    } finally {
      client.close();
    }
  });

  it.each([
    ['an allowed request', true, 200],
    ['a denied request', false, 401],
  ])(
    '%s: a client header asks for nothing, and nothing reaches the client or the app',
    async (_what, withToken, status) => {
      const token = await t.issuer.mint({ sub: 'alice' });
      const before = asked.length;
      const seen = upstream.seen.length;
      const res = await fetch(`${base}/v2/namespaces`, {
        headers: {
          [EXPLAIN_REQUEST_KEY]: 'true',
          [EXPLAIN_TRAILER_KEY]: 'forged',
          ...(withToken ? { authorization: `Bearer ${token}` } : {}),
        },
      });
      const body = await res.text();
      expect(res.status).toBe(status);
      expect(asked.length).toBe(before + 1);
      expect(asked.at(-1)).toBeUndefined();
      expect(trailers.at(-1)).toBeUndefined();
      const answer = JSON.stringify([...res.headers]) + body;
      expect(answer).not.toMatch(/not_exempt|verifiedCache|"phase"|"outcome"/);
      if (withToken) {
        expect(upstream.seen.length).toBe(seen + 1);
        const h = upstream.seen.at(-1)!.headers;
        expect(JSON.stringify(h)).not.toMatch(/not_exempt|verifiedCache|"phase"|"outcome"/);
      }
    },
  );
});
