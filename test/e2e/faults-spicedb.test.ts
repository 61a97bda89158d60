import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../helpers/manual-time.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { startEchoUpstream, type EchoUpstream } from '../helpers/echo-upstream.js';
import { renderEnvoyConfig, startEnvoy, type RunningEnvoy } from '../helpers/envoy.js';
import { startFaultProxy, type FaultProxy } from '../helpers/fault-proxy.js';
import {
  leakedSecrets,
  logLines,
  metricValue,
  send,
  startSaga,
  type Answer,
} from '../helpers/faults.js';
import { waitFor } from '../helpers/ports.js';
import {
  EXAMPLE_RELATIONSHIPS,
  exampleRule,
  startSpiceDb,
  stopSpiceDb,
  type RunningSpiceDb,
} from '../helpers/spicedb.js';
import { CALLER_MESSAGES } from '../../src/errors.js';

/**
 * Fault matrix (docs/reliability.md), SpiceDB rows, end to end: `vmctl namespace create` enters
 * the gateway through the real Envoy ingress (envoy/ingress.yaml); the sidecar checks
 * cloud:cl0#create_saga in a real `spicedb serve` reached through a fault-injecting proxy, with
 * the default deadline (spicedb.timeoutMs 250). The decision cache (2 s) runs on a ManualClock,
 * moved past its TTL so every check below really asks SpiceDB.
 *
 * The same sidecar also serves a second Envoy over the HTTP transport (envoy/ingress-http.yaml),
 * and every row runs through both: over HTTP a 5xx denial is an ext_authz error, so the client
 * gets Envoy's own 503 (status_on_error) without our reason, and a 403 still carries it.
 */
const TELEPORT_USER = 'cloud-teleport-aleksander.rykalin';

describe('fault matrix: SpiceDB', () => {
  const clock = new ManualClock(Date.now());
  let db: RunningSpiceDb;
  let proxy: FaultProxy;
  let t: TestApp;
  let app: EchoUpstream;
  let ingress: RunningEnvoy;
  let ingressHttp: RunningEnvoy;
  let port: number;
  let httpPort: number;
  let keyFile: string;

  beforeAll(async () => {
    db = await startSpiceDb({ relationships: EXAMPLE_RELATIONSHIPS });
    proxy = await startFaultProxy(Number(db.endpoint.split(':')[1]));
    t = await startTestApp(
      (_issuer, dir) => {
        keyFile = path.join(dir, 'spicedb.key');
        writeFileSync(keyFile, db.presharedKey, { mode: 0o600 });
        return {
          server: { httpCheckAddress: '127.0.0.1:0' },
          spicedb: {
            endpoint: `127.0.0.1:${proxy.port}`,
            transport: 'plaintext',
            presharedKeyFile: 'spicedb.key',
          },
          authorization: {
            default: 'deny',
            rules: [exampleRule('create-namespace')],
          },
        };
      },
      { clock },
    );
    app = await startEchoUpstream();
    ingress = await startEnvoy(
      renderEnvoyConfig('envoy/ingress.yaml', {
        clusters: { jwtexchange: t.app.grpcPort, app: app.port },
      }),
    );
    port = ingress.port('ingress');
    ingressHttp = await startEnvoy(
      renderEnvoyConfig('envoy/ingress-http.yaml', {
        clusters: { jwtexchange: t.app.httpCheckPort!, app: app.port },
      }),
    );
    httpPort = ingressHttp.port('ingress');
  });

  afterAll(async () => {
    await ingress?.stop();
    await ingressHttp?.stop();
    await app?.close();
    await t?.app.shutdown();
    await proxy?.close();
    await stopSpiceDb(db);
  });

  let stopped = false;
  const stopDb = async () => {
    stopped = true;
    await db.stop();
  };
  const startDb = async () => {
    await db.start();
    stopped = false;
  };

  afterEach(async () => {
    proxy.set('pass');
    writeFileSync(keyFile, db.presharedKey);
    if (stopped) await startDb();
  });

  /** POST /v2/namespaces/cl0 as `sub`, past the decision cache's TTL, over gRPC or HTTP. */
  const create = async (sub: string, via: 'grpc' | 'http' = 'grpc'): Promise<Answer> => {
    clock.advance(2_001);
    return send(via === 'grpc' ? port : httpPort, {
      method: 'POST',
      path: '/v2/namespaces/cl0',
      headers: { authorization: `Bearer ${await t.issuer.mint({ sub })}` },
    });
  };

  const metric = (name: string, labels: Record<string, string> = {}) =>
    metricValue(t.app.metrics, name, labels);
  const readyz = async () => (await fetch(`http://127.0.0.1:${t.app.httpPort}/readyz`)).status;
  /** Envoy's count of ext_authz errors (a 5xx from the HTTP authorization service is one). */
  const httpExtAuthzErrors = () => ingressHttp.counter('http.ingress.ext_authz.error');

  /**
   * The row's script: during the fault the permitted user and the unpermitted one both get a
   * retriable 503 (never a 403 that SpiceDB did not say, never a 2xx) over either transport; the
   * sidecar stays ready; after `heal` a retrying caller on each transport succeeds without a
   * restart, and the 403 comes back.
   */
  async function outage(o: {
    fault: () => void | Promise<void>;
    heal: () => void | Promise<void>;
    kind: string;
    logged: RegExp;
  }): Promise<void> {
    await waitFor(async () => (await create(TELEPORT_USER)).status === 200, 'a healthy check');
    await waitFor(
      async () => (await create(TELEPORT_USER, 'http')).status === 200,
      'a healthy check over HTTP',
    );
    const errors = await metric('jwtexchange_spicedb_checks_total', { result: 'error' });
    const envoyErrors = await httpExtAuthzErrors();
    const logsBefore = t.logs.length;
    const seen = app.seen.length;
    await o.fault();

    for (const sub of [TELEPORT_USER, 'mallory']) {
      const denied = await create(sub);
      expect(denied).toMatchObject({ status: 503, reason: 'spicedb_unavailable' });
      // The caller sees the fixed sentence; the kind of failure is in the deny log line.
      expect(JSON.parse(denied.body)).toEqual({
        error: 'spicedb_unavailable',
        message: CALLER_MESSAGES.spicedb_unavailable,
      });
      // Over HTTP the 503 is Envoy's: nothing of ours, not even the reason, reaches the caller.
      const viaHttp = await create(sub, 'http');
      expect(viaHttp).toMatchObject({ status: 503, reason: undefined });
      expect(viaHttp.body).not.toContain('spicedb');
    }
    expect(await httpExtAuthzErrors()).toBe(envoyErrors + 2);
    const denials = logLines(t.logs.slice(logsBefore), 'deny');
    expect(denials.filter((d) => d.reason === 'spicedb_unavailable')).toHaveLength(4);
    expect(denials.at(-1)).toMatchObject({
      reason: 'spicedb_unavailable',
      message: `SpiceDB check failed (${o.kind})`,
    });
    expect(app.seen.length).toBe(seen);
    expect(await readyz()).toBe(200); // an outage after start is not a readiness flap
    expect(await metric('jwtexchange_spicedb_checks_total', { result: 'error' })).toBeGreaterThan(
      errors,
    );
    const logged = logLines(t.logs.slice(logsBefore), 'SpiceDB check failed; denying');
    expect(logged[0]).toMatchObject({ level: 'warn', rule: 'create-namespace' });
    expect(String(logged[0]!.error)).toMatch(o.logged);

    const saga = startSaga(() => create(TELEPORT_USER));
    const sagaHttp = startSaga(() => create(TELEPORT_USER, 'http'));
    await waitFor(
      () => saga.answers.length >= 2 && sagaHttp.answers.length >= 2,
      'failed attempts on both transports',
    );
    await o.heal();
    expect((await saga.done(20_000)).status).toBe('succeeded');
    expect((await sagaHttp.done(20_000)).status).toBe('succeeded');
    expect(
      saga.answers
        .slice(0, -1)
        .every((a) => a.status === 503 && a.reason === 'spicedb_unavailable'),
    ).toBe(true);
    expect(sagaHttp.answers.slice(0, -1).every((a) => a.status === 503)).toBe(true);
    expect(app.seen.at(-1)!.headers['x-jwtauth-subject']).toBe(TELEPORT_USER);
    for (const via of ['grpc', 'http'] as const) {
      expect(await create('mallory', via)).toMatchObject({
        status: 403,
        reason: 'permission_denied',
      });
    }
    expect(leakedSecrets(t.logs)).toEqual([]);
    expect(t.logs.join('\n')).not.toContain(db.presharedKey);
  }

  it('SpiceDB down: 503 spicedb_unavailable (fail closed), back without a restart', async () => {
    await outage({
      fault: stopDb,
      heal: startDb,
      kind: 'unreachable',
      logged: /is unreachable/,
    });
  });

  it('SpiceDB slow past the deadline: 503 after spicedb.timeoutMs', async () => {
    await outage({
      fault: () => proxy.set({ latencyMs: 400 }),
      heal: () => proxy.set('pass'),
      kind: 'timeout',
      logged: /did not answer within 250 ms/,
    });
  });

  it('wrong preshared key: 503, and a corrected key file is used without a restart', async () => {
    await outage({
      fault: () => writeFileSync(keyFile, 'not-the-key'),
      heal: () => writeFileSync(keyFile, `${db.presharedKey}\n`),
      kind: 'unauthenticated',
      logged: /rejected the preshared key/,
    });
    expect(logLines(t.logs, 'SpiceDB preshared key reloaded').length).toBeGreaterThanOrEqual(2);
  });
});
