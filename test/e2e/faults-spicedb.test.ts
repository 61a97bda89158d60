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
 */
const TELEPORT_USER = 'cloud-teleport-aleksander.rykalin';

describe('fault matrix: SpiceDB', () => {
  const clock = new ManualClock(Date.now());
  let db: RunningSpiceDb;
  let proxy: FaultProxy;
  let t: TestApp;
  let app: EchoUpstream;
  let ingress: RunningEnvoy;
  let port: number;
  let keyFile: string;

  beforeAll(async () => {
    db = await startSpiceDb({ relationships: EXAMPLE_RELATIONSHIPS });
    proxy = await startFaultProxy(Number(db.endpoint.split(':')[1]));
    t = await startTestApp(
      (_issuer, dir) => {
        keyFile = path.join(dir, 'spicedb.key');
        writeFileSync(keyFile, db.presharedKey, { mode: 0o600 });
        return {
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
  });

  afterAll(async () => {
    await ingress?.stop();
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

  /** POST /v2/namespaces/cl0 as `sub`, past the decision cache's TTL. */
  const create = async (sub: string): Promise<Answer> => {
    clock.advance(2_001);
    return send(port, {
      method: 'POST',
      path: '/v2/namespaces/cl0',
      headers: { authorization: `Bearer ${await t.issuer.mint({ sub })}` },
    });
  };

  const metric = (name: string, labels: Record<string, string> = {}) =>
    metricValue(t.app.metrics, name, labels);
  const readyz = async () => (await fetch(`http://127.0.0.1:${t.app.httpPort}/readyz`)).status;

  /**
   * The row's script: during the fault the permitted user and the unpermitted one both get a
   * retriable 503 (never a 403 that SpiceDB did not say, never a 2xx); the sidecar stays ready;
   * after `heal` a retrying caller succeeds without a restart, and the 403 comes back.
   */
  async function outage(o: {
    fault: () => void | Promise<void>;
    heal: () => void | Promise<void>;
    kind: string;
    logged: RegExp;
  }): Promise<void> {
    await waitFor(async () => (await create(TELEPORT_USER)).status === 200, 'a healthy check');
    const errors = await metric('jwtexchange_spicedb_checks_total', { result: 'error' });
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
    }
    const denials = logLines(t.logs.slice(logsBefore), 'deny');
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
    await waitFor(() => saga.answers.length >= 2, 'failed attempts');
    await o.heal();
    expect((await saga.done(20_000)).status).toBe('succeeded');
    expect(
      saga.answers
        .slice(0, -1)
        .every((a) => a.status === 503 && a.reason === 'spicedb_unavailable'),
    ).toBe(true);
    expect(app.seen.at(-1)!.headers['x-jwtauth-subject']).toBe(TELEPORT_USER);
    expect(await create('mallory')).toMatchObject({ status: 403, reason: 'permission_denied' });
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
