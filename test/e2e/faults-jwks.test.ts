import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../helpers/manual-time.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { startEchoUpstream, type EchoUpstream } from '../helpers/echo-upstream.js';
import { renderEnvoyConfig, startEnvoy, type RunningEnvoy } from '../helpers/envoy.js';
import { startFaultProxy, type FaultProxy } from '../helpers/fault-proxy.js';
import { leakedSecrets, logLines, metricValue, send, startSaga } from '../helpers/faults.js';
import { waitFor } from '../helpers/ports.js';
import {
  postToken,
  startTestTokenExchange,
  type TestTokenExchange,
} from '../helpers/token-exchange.js';

/**
 * Fault matrix (docs/reliability.md), JWKS rows, end to end: vmcontroller calls the gateway with
 * a service token from the real token-exchange; the call enters through the real Envoy ingress
 * (envoy/ingress.yaml) and the gateway's sidecar verifies it against token-exchange's JWKS,
 * fetched through a fault-injecting proxy. token-exchange rotates its signing keys by its clock;
 * the sidecar and token-exchange share one ManualClock, so rotations and the JWKS cooldown are
 * crossed by moving it. The sidecar starts while the JWKS endpoint is down.
 */
const ROTATE_S = 3_600;
const COOLDOWN_MS = 30_000; // the default inbound.issuers[].jwks.cooldownMs

describe('fault matrix: JWKS', () => {
  const clock = new ManualClock(Date.now());
  let sts: TestTokenExchange;
  let proxy: FaultProxy;
  let t: TestApp;
  let app: EchoUpstream;
  let ingress: RunningEnvoy;
  let port: number;

  beforeAll(async () => {
    sts = await startTestTokenExchange({
      services: ['gateway', 'vmcontroller'],
      clock,
      extra: { keys: { rotateEverySeconds: ROTATE_S, publishAheadSeconds: 300 } },
    });
    proxy = await startFaultProxy(sts.port);
    proxy.set('down'); // row 1: the sidecar starts without its issuer's keys
    t = await startTestApp(
      () => ({
        inbound: {
          issuers: [
            {
              issuer: sts.issuer,
              jwksUri: `https://127.0.0.1:${proxy.port}/.well-known/jwks.json`,
              jwksCaFile: sts.pki.caFile,
              audiences: ['gateway'],
            },
          ],
        },
      }),
      { clock, waitReady: false },
    );
    app = await startEchoUpstream();
    ingress = await startEnvoy(
      renderEnvoyConfig('envoy/ingress.yaml', {
        clusters: { jwtexchange: t.app.grpcPort, app: app.port },
      }),
    );
    port = ingress.port('ingress');
  });

  afterAll(async () => {
    await ingress?.stop();
    await app?.close();
    await t?.app.shutdown();
    await proxy?.close();
    await sts?.close();
  });

  afterEach(() => proxy.set('pass'));

  /** A fresh service token of vmcontroller for the gateway, signed with token-exchange's current key. */
  const serviceToken = async () => {
    const res = await postToken(sts, 'vmcontroller', {
      grant_type: 'client_credentials',
      audience: 'gateway',
    });
    return String(res.body.access_token);
  };
  const kidOf = (token: string) =>
    JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString()).kid as string;

  /** vmcontroller → gateway through Envoy with the given token. */
  const call = (token: string) =>
    send(port, { path: '/v2/namespaces', headers: { authorization: `Bearer ${token}` } });

  const metric = (name: string, labels: Record<string, string> = {}) =>
    metricValue(t.app.metrics, name, labels);
  const fetches = (result: 'success' | 'failure') =>
    metric('jwtexchange_jwks_fetches_total', { issuer: sts.issuer, result });
  /** JWKS loads since `from` (log index) that a check asked for (not the background timers). */
  const onDemandLoads = (from: number) =>
    [
      ...logLines(t.logs.slice(from), 'jwks loaded'),
      ...logLines(t.logs.slice(from), 'jwks load failed'),
    ].filter((l) => l.trigger === 'unknown-kid' || l.trigger === 'unusable');
  const readyz = async () => (await fetch(`http://127.0.0.1:${t.app.httpPort}/readyz`)).status;

  /** A caller retrying with fresh tokens, like a saga step: only 503s until it succeeds. */
  async function retriesSucceed(heal: () => void): Promise<void> {
    const saga = startSaga(async () => call(await serviceToken()));
    await waitFor(() => saga.answers.length >= 2, 'failed attempts');
    heal();
    clock.advance(COOLDOWN_MS); // the next on-demand refetch is allowed
    const state = await saga.done();
    expect(state.status).toBe('succeeded');
    expect(
      saga.answers.slice(0, -1).every((a) => a.status === 503 && a.reason === 'jwks_unavailable'),
    ).toBe(true);
    expect(app.seen.at(-1)!.headers['x-jwtauth-subject']).toBe('vmcontroller');
  }

  it('JWKS endpoint down at start: not ready, 503 jwks_unavailable; ready and allowing once it is back', async () => {
    await waitFor(async () => (await fetches('failure')) >= 1, 'the first JWKS load to fail');
    expect(await readyz()).toBe(503);
    const report = (await (await fetch(`http://127.0.0.1:${t.app.httpPort}/readyz`)).json()) as {
      gates: Record<string, { ready: boolean; detail?: string }>;
    };
    expect(report.gates[`jwks:${sts.issuer}`]).toMatchObject({ ready: false });
    const denied = await call(await serviceToken());
    expect(denied).toMatchObject({ status: 503, reason: 'jwks_unavailable' });
    expect(app.seen).toHaveLength(0);
    expect(logLines(t.logs, 'jwks load failed')[0]).toMatchObject({
      level: 'warn',
      issuer: sts.issuer,
      trigger: 'start',
      error: expect.stringMatching(/ECONNRESET|ECONNREFUSED/),
    });

    await retriesSucceed(() => proxy.set('pass'));
    expect(await readyz()).toBe(200);
    expect(await fetches('success')).toBeGreaterThanOrEqual(1);
  });

  it('JWKS endpoint down during a rotation: old-key tokens allowed, new-key tokens 503 (not 401) until it is back', async () => {
    // Token-exchange lists its next key when the publish-ahead window (300 s) opens, and signs
    // with it only once the whole window has passed (docs/token-exchange.md). Just before that,
    // its endpoint goes down …
    clock.set(sts.keyStore.signingKey().activeFrom + ROTATE_S * 1000 - 300_000);
    await serviceToken(); // the next key is listed from now
    clock.advance(240_000);
    const oldKey = await serviceToken();
    proxy.set('down');
    // … and then it starts signing with its next key, which the sidecar never fetched.
    clock.advance(120_000);
    const newKey = await serviceToken();
    expect(kidOf(newKey)).not.toBe(kidOf(oldKey));
    const failures = await fetches('failure');
    const logsBefore = t.logs.length;

    expect(await call(oldKey)).toMatchObject({ status: 200 });
    expect(await call(newKey)).toMatchObject({ status: 503, reason: 'jwks_unavailable' });
    expect(await fetches('failure')).toBeGreaterThan(failures);
    expect(onDemandLoads(logsBefore)).toEqual([
      expect.objectContaining({ msg: 'jwks load failed', level: 'warn', trigger: 'unknown-kid' }),
    ]);
    // Within the cooldown: no new fetch, still the retriable answer.
    expect(await call(await serviceToken())).toMatchObject({ status: 503 });
    expect(onDemandLoads(logsBefore)).toHaveLength(1);
    expect(await readyz()).toBe(200); // the cached set is still usable: no readiness flap

    await retriesSucceed(() => proxy.set('pass'));
    expect(await call(newKey)).toMatchObject({ status: 200 });
    expect(leakedSecrets(t.logs)).toEqual([]);
  });

  it('JWKS serving a rotated key: the unknown kid triggers one refetch and is allowed; a forged kid stays 401', async () => {
    const due = sts.keyStore.signingKey().activeFrom + ROTATE_S * 1000;
    clock.set(Math.max(clock.now(), due - 300_000));
    const oldKey = await serviceToken(); // inside the publish-ahead window: the next key is listed
    clock.advance(300_000 + 1_000); // the whole window has passed: rotation (and past the cooldown)
    const newKey = await serviceToken();
    expect(kidOf(newKey)).not.toBe(kidOf(oldKey));
    const ok = await fetches('success');
    const logsBefore = t.logs.length;

    expect(await call(newKey)).toMatchObject({ status: 200 });
    expect(await fetches('success')).toBeGreaterThan(ok);
    expect(onDemandLoads(logsBefore)).toEqual([
      expect.objectContaining({ msg: 'jwks loaded', level: 'debug', trigger: 'unknown-kid' }),
    ]);
    expect(await metric('jwtexchange_jwks_keys', { issuer: sts.issuer })).toBeGreaterThanOrEqual(2);
    // A token naming a key nobody published, right after: 401, and no fetch it could force.
    const [h, p, s] = newKey.split('.');
    const header = JSON.parse(Buffer.from(h!, 'base64url').toString());
    const forged = [
      Buffer.from(JSON.stringify({ ...header, kid: 'not-a-key' })).toString('base64url'),
      p,
      s,
    ].join('.');
    expect(await call(forged)).toMatchObject({ status: 401, reason: 'unknown_key' });
    expect(onDemandLoads(logsBefore)).toHaveLength(1);
  });
});
