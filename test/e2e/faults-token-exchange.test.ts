import { X509Certificate } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import type http from 'node:http';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock, ManualTimers } from '../helpers/manual-time.js';
import { createCa, issueLeaf, loadCa } from '../../src/pki/certificates.js';
import type { TestApp } from '../helpers/app.js';
import type { EchoUpstream } from '../helpers/echo-upstream.js';
import type { Fault, FaultProxy } from '../helpers/fault-proxy.js';
import {
  garbageServer,
  httpsAnswering,
  leakedSecrets,
  logLines,
  metricValue,
  startSaga,
  startTokenExchangeScene,
  TRANSPORTS,
  type Answer,
  type TokenExchangeScene,
} from '../helpers/faults.js';
import { waitFor } from '../helpers/ports.js';
import type { TestTokenExchange } from '../helpers/token-exchange.js';

/**
 * Fault matrix (docs/reliability.md), token-exchange rows, end to end: a saga's call leaves
 * through the real Envoy egress (envoy/egress.yaml) and gets a service token from the real
 * token-exchange over mTLS; a user's call enters through the real Envoy ingress
 * (envoy/ingress.yaml) and its auth.service token is exchanged (RFC 8693) at the same server.
 * Between the sidecar and token-exchange sits a fault-injecting TCP proxy. Time in the sidecar
 * and token-exchange is one ManualClock: refresh points and the end of a token's usable window
 * are reached by moving it, never by waiting.
 *
 * Every row: healthy → fault → (warm: cached token still injected; cold or past its margin: 503
 * with the reason) → heal → a saga started during the fault succeeds, having seen only 503s.
 *
 * Each row runs over both transports: the same sidecar also serves an egress and an ingress
 * Envoy in HTTP mode (envoy/egress-http.yaml, envoy/ingress-http.yaml). Over HTTP a 5xx denial is
 * an ext_authz error, so the caller gets Envoy's own 503 (status_on_error), without our reason.
 */
const TTL_S = 300;

describe('fault matrix: token-exchange', () => {
  const clock = new ManualClock(Date.now());
  const timers = new ManualTimers(clock);
  let sts: TestTokenExchange;
  let proxy: FaultProxy;
  let t: TestApp;
  let vmcontroller: EchoUpstream;
  let sagaCall: TokenExchangeScene['sagaCall'];
  let userCall: TokenExchangeScene['userCall'];
  let scene: TokenExchangeScene | undefined;

  beforeAll(async () => {
    scene = await startTokenExchangeScene({ clock, timers, ttlSeconds: TTL_S });
    ({ sts, proxy, t, vmcontroller, sagaCall, userCall } = scene);
  });

  afterAll(() => scene?.close());

  // A failed row must not leave its fault behind for the next one.
  afterEach(async () => {
    proxy.set('pass');
    await sts.start();
  });

  const metric = (name: string, labels: Record<string, string> = {}) =>
    metricValue(t.app.metrics, name, labels);

  /** The service token vmcontroller last received: sub and aud. */
  const lastInjected = () => {
    const auth = String(vmcontroller.seen.at(-1)!.headers.authorization);
    const claims = JSON.parse(Buffer.from(auth.split('.')[1]!, 'base64url').toString());
    return { sub: claims.sub as string, aud: claims.aud as string };
  };

  /**
   * Moves time exactly to the next background refresh (or retry) and waits for its outcome. The
   * clock stands still meanwhile, so a token it fetches is issued "now".
   */
  async function nextRefresh(result: 'success' | 'failure'): Promise<void> {
    const name = 'jwtexchange_service_token_refreshes_total';
    const before = await metric(name, { result });
    await timers.advance(Math.max(0, timers.nextAt() - clock.now()));
    await waitFor(async () => (await metric(name, { result })) > before, `a refresh ${result}`);
  }

  /** Moves time past any cached token's usable window (exp minus the 30 s margin). */
  const pastTheMargin = () => timers.advance(TTL_S * 1000);

  /**
   * The row's script. `fault` is switched on while the sidecar is warm; a cached token keeps the
   * saga route working until its margin; then both directions answer 503 with their reason;
   * sagas started during the fault succeed after `heal`, having seen nothing but those 503s.
   */
  async function outage(o: {
    fault: () => void | Promise<void>;
    heal: () => void | Promise<void>;
    /** What the operator's log line says about the failure. */
    logged: RegExp;
  }): Promise<{ outbound: Answer; inbound: Answer }> {
    await waitFor(async () => (await sagaCall()).status === 200, 'a warm saga route');
    await nextRefresh('success'); // a token issued now: its refresh point and margin are known
    expect((await userCall()).status).toBe(200);
    const logsBefore = t.logs.length;
    const stale = await metric('jwtexchange_service_token_served_stale_total');
    const errors = await metric('jwtexchange_service_token_exchanges_total', { result: 'error' });
    await o.fault();

    // Warm: the refresh fails in the background, the cached token is still injected.
    await nextRefresh('failure');
    for (const via of TRANSPORTS) {
      expect((await sagaCall(via)).status, via).toBe(200);
      expect(lastInjected()).toEqual({ sub: 'gateway', aud: 'vmcontroller' });
    }
    expect(await metric('jwtexchange_service_token_served_stale_total')).toBeGreaterThan(stale);

    // Past exp − margin the token is never used (retries fail on the way): a retriable 503
    // with the reason, in both directions.
    await pastTheMargin();
    const outbound = await sagaCall();
    expect(outbound).toMatchObject({ status: 503, reason: 'service_token_unavailable' });
    const inbound = await userCall();
    expect(inbound).toMatchObject({ status: 503, reason: 'token_exchange_unavailable' });
    // Over HTTP the same denials are Envoy's 503: nothing of ours reaches the caller.
    for (const call of [sagaCall, userCall]) {
      const viaHttp = await call('http');
      expect(viaHttp).toMatchObject({ status: 503, reason: undefined });
      expect(viaHttp.body).not.toMatch(/token|deadline|timed out|127\.0\.0\.1/);
    }
    expect(
      await metric('jwtexchange_service_token_exchanges_total', { result: 'error' }),
    ).toBeGreaterThan(errors);
    const logged = logLines(t.logs.slice(logsBefore), 'service token exchange failed');
    expect(logged.length).toBeGreaterThan(0);
    expect(String(logged[0]!.error)).toMatch(o.logged);
    expect(logged[0]).toMatchObject({ level: 'warn', audience: 'vmcontroller', result: 'error' });
    expect(leakedSecrets(t.logs)).toEqual([]);

    // Sagas (and retrying users) started during the fault, over each transport; nothing is
    // restarted.
    const retrying = TRANSPORTS.flatMap((via) => [
      { via, run: startSaga(() => sagaCall(via)) },
      { via, run: startSaga(() => userCall(via)) },
    ]);
    await waitFor(() => retrying.every((r) => r.run.answers.length >= 2), 'failed attempts');
    await o.heal();
    for (const { via, run } of retrying) {
      const state = await run.done();
      expect(state.status).toBe('succeeded');
      const failed = run.answers.slice(0, -1);
      // Over gRPC each 503 carries its reason; over HTTP it is Envoy's, without one.
      expect(
        failed.every((a) => a.status === 503 && (via === 'http') === (a.reason === undefined)),
      ).toBe(true);
    }
    expect(lastInjected()).toEqual({ sub: 'gateway', aud: 'vmcontroller' });
    // The background refresh is healthy again too.
    await nextRefresh('success');
    return { outbound, inbound };
  }

  const serverTls = () => ({
    cert: readFileSync(sts.pki.serverCertFile),
    key: readFileSync(sts.pki.serverKeyFile),
    ca: readFileSync(sts.pki.caFile),
  });

  const faultTo = (f: Fault) => () => proxy.set(f);
  const healed = faultTo('pass');

  it('token-exchange down: stale token until the margin, then 503; recovers by itself', async () => {
    await outage({
      fault: () => sts.stop(),
      heal: () => sts.start(), // Through the proxy a refused connection shows as a reset.
      logged: /ECONNREFUSED|ECONNRESET/,
    });
  });

  it('token-exchange slow past tokenExchange.timeoutMs: 503 with the reason', async () => {
    const { outbound, inbound } = await outage({
      fault: faultTo({ latencyMs: 2_500 }),
      heal: healed,
      logged: /timed out after 2000 ms/,
    });
    // The caller sees the reason's fixed sentence; why (the deadline) is in the deny log line.
    expect(outbound.body).not.toMatch(/deadline|timed out|127\.0\.0\.1/);
    expect(inbound.body).not.toMatch(/deadline|timed out|127\.0\.0\.1/);
    const denials = logLines(t.logs, 'deny');
    for (const reason of ['service_token_unavailable', 'token_exchange_unavailable']) {
      const last = denials.filter((l) => l.reason === reason).at(-1);
      expect(String(last?.message), reason).toMatch(/deadline|timed out/);
    }
  }, 60_000);

  /** One more variant of a row's fault, once the row has shown the whole outage. */
  async function alsoDenied(
    fault: Fault,
    outboundReason = 'service_token_unavailable',
  ): Promise<void> {
    proxy.set(fault);
    await pastTheMargin();
    expect(await sagaCall()).toMatchObject({ status: 503, reason: outboundReason });
    expect(await userCall()).toMatchObject({ status: 503, reason: 'token_exchange_unavailable' });
    proxy.set('pass');
    // An unusable answer is remembered for cache.refusalTtlMs (30 s): time moves past it.
    await timers.advance(30_000);
    await waitFor(async () => (await sagaCall()).status === 200, 'the saga route back');
    expect((await userCall()).status).toBe(200);
  }

  const answering = (status: number, contentType: string, body: string) =>
    httpsAnswering(serverTls(), (_req, res: http.ServerResponse) =>
      res.writeHead(status, { 'content-type': contentType, 'retry-after': '1' }).end(body),
    );

  it('token-exchange answering 5xx: 503, never a 401 for the caller', async () => {
    // A 5xx with an RFC error code is still the server failing, not a refusal.
    const unavailable = JSON.stringify({ error: 'temporarily_unavailable' });
    await outage({
      fault: faultTo({ serve: answering(503, 'application/json', unavailable) }),
      heal: healed,
      logged: /answered 503 \(temporarily_unavailable\)/,
    });
    await alsoDenied({ serve: answering(500, 'text/html', '<html>Internal Error</html>') });
  });

  it('token-exchange answering garbage: 503', async () => {
    await outage({
      fault: faultTo({ serve: answering(200, 'application/json', '<html>not json</html>') }),
      heal: healed,
      logged: /answered 200 without JSON/,
    });
    // JSON that is not a usable token answer: its own reason on the saga route.
    await alsoDenied(
      { serve: answering(200, 'application/json', '{"token_type":"Bearer"}') },
      'service_token_invalid',
    );
    await alsoDenied({ serve: answering(200, 'application/json', '{"access_token":') });
    await alsoDenied({ serve: garbageServer() }); // bytes that are not even TLS
  });

  it('token-exchange TLS failure (certificate from another CA, expired certificate): 503', async () => {
    const foreign = await createCa('not the platform CA');
    const impostor = await issueLeaf(foreign, {
      commonName: 'token-exchange',
      usage: 'server',
      ipAddresses: ['127.0.0.1'],
    });
    const token = (_req: http.IncomingMessage, res: http.ServerResponse) =>
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ access_token: 'x.y.z', token_type: 'Bearer', expires_in: 300 }));
    await outage({
      fault: faultTo({ serve: httpsAnswering(impostor, token) }),
      heal: healed,
      logged: /UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED|unable to verify/i,
    });
    const ca = await loadCa(
      readFileSync(sts.pki.caFile, 'utf8'),
      readFileSync(sts.pki.caKeyFile, 'utf8'),
    );
    const expired = await issueLeaf(ca, {
      commonName: 'token-exchange',
      usage: 'server',
      ipAddresses: ['127.0.0.1'],
      notBefore: new Date(Date.now() - 3 * 86_400_000),
      validDays: 1,
    });
    await outage({
      fault: faultTo({ serve: httpsAnswering(expired, token) }),
      heal: healed,
      logged: /CERT_HAS_EXPIRED|expired/i,
    });
  });

  it('client certificate rotated on disk: used on the next exchange, no restart, nothing denied', async () => {
    const gw = sts.pki.clients.gateway!;
    await waitFor(async () => (await sagaCall()).status === 200, 'a warm saga route');
    await nextRefresh('success');
    const ca = await loadCa(
      readFileSync(sts.pki.caFile, 'utf8'),
      readFileSync(sts.pki.caKeyFile, 'utf8'),
    );
    const renewed = await issueLeaf(ca, {
      commonName: 'gateway',
      usage: 'client',
      dnsNames: ['gateway'],
      uris: ['spiffe://jwtexchange.dev/gateway'],
    });
    // The renewal lands one file at a time: first the new certificate, next to the old key.
    writeFileSync(gw.certFile, renewed.cert);
    const logsBefore = t.logs.length;
    await nextRefresh('success'); // the previous pair is kept: nothing fails in between
    expect(logLines(t.logs.slice(logsBefore), 'client certificate files do not match')).toEqual([
      expect.objectContaining({
        level: 'warn',
        error: expect.stringMatching(/keeping the previous pair/),
      }),
    ]);
    expect((await sagaCall()).status).toBe(200);
    expect((await userCall()).status).toBe(200); // a cold exchange, in between too
    // The key lands: the next exchange presents the renewed pair, and the log says which.
    writeFileSync(gw.keyFile, renewed.key, { mode: 0o600 });
    await nextRefresh('success');
    const serial = new X509Certificate(renewed.cert).serialNumber.toLowerCase();
    expect(logLines(t.logs.slice(logsBefore), 'client certificate loaded')).toEqual([
      expect.objectContaining({
        level: 'info',
        serial,
        certificate: expect.stringContaining('CN=gateway'),
      }),
    ]);
    expect((await sagaCall()).status).toBe(200);
    expect((await userCall()).status).toBe(200);
    expect(lastInjected()).toEqual({ sub: 'gateway', aud: 'vmcontroller' });
    expect(leakedSecrets(t.logs)).toEqual([]);
  });
});
