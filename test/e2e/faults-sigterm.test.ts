import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureDevIssuer, type DevIssuer } from '../../src/dev/dev-issuer.js';
import { cli } from '../helpers/cli.js';
import { startEchoUpstream, type EchoUpstream } from '../helpers/echo-upstream.js';
import {
  send,
  startGatewayEnvoys,
  stopGatewayEnvoys,
  TRANSPORTS,
  type Answer,
  type GatewayEnvoys,
  type Transport,
} from '../helpers/faults.js';
import { freePort, waitFor } from '../helpers/ports.js';
import { startTestTokenExchange, type TestTokenExchange } from '../helpers/token-exchange.js';

/**
 * Fault matrix (docs/reliability.md), SIGTERM under load: a real `jwtexchange serve` process
 * behind the real Envoy ingress and egress of both transports (envoy/*.yaml, with their ext_authz
 * retry policies: gRPC, and HTTP/1.1 with its kept-alive connections) serves users (a new token
 * per request) and sagas; it is sent SIGTERM mid-load and the container "restarts" (a new process
 * on the same ports). Every answer is either right — 200 with the caller's own identity, or the
 * saga's service token — or a retriable 503; each request that got a 503 succeeds when retried
 * once the new process is up. Nothing else, ever.
 */
interface Sent {
  readonly via: Transport;
  readonly kind: 'user' | 'saga';
  readonly sub: string;
  /** When the request was sent, and when its answer came. */
  readonly sentAt: number;
  readonly at: number;
  readonly answer: Answer;
}

describe('fault matrix: SIGTERM under load', () => {
  let sts: TestTokenExchange;
  let issuer: DevIssuer;
  let vmcontroller: EchoUpstream;
  let gateway: EchoUpstream;
  let envoys: Record<Transport, GatewayEnvoys>;
  let config: string;
  let ports: { grpc: number; httpCheck: number; http: number };
  const processes: ChildProcess[] = [];

  beforeAll(async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'jwtx-sigterm-'));
    issuer = await ensureDevIssuer(dir);
    sts = await startTestTokenExchange({ services: ['gateway', 'vmcontroller'] });
    ports = { grpc: await freePort(), httpCheck: await freePort(), http: await freePort() };
    config = path.join(dir, 'config.yaml');
    writeFileSync(
      config,
      stringify({
        server: {
          grpcAddress: `127.0.0.1:${ports.grpc}`,
          httpCheckAddress: `127.0.0.1:${ports.httpCheck}`,
          httpAddress: `127.0.0.1:${ports.http}`,
          drainDelayMs: 500,
          shutdownGraceMs: 2_000,
        },
        inbound: {
          issuers: [{ issuer: issuer.issuer, jwksFile: issuer.jwksFile, audiences: ['gateway'] }],
        },
        outbound: {
          tokenExchange: {
            ...sts.clientSettings('gateway'),
          },
          audiences: [{ audience: 'vmcontroller' }],
        },
      }),
    );
    [vmcontroller, gateway] = [await startEchoUpstream(), await startEchoUpstream()];
    envoys = await startGatewayEnvoys(
      { grpc: ports.grpc, http: ports.httpCheck },
      { vmcontroller: vmcontroller.port, app: gateway.port },
    );
  });

  afterAll(async () => {
    for (const p of processes) if (p.exitCode === null) p.kill('SIGKILL');
    await stopGatewayEnvoys(envoys);
    await gateway?.close();
    await vmcontroller?.close();
    await sts?.close();
  });

  /** `jwtexchange serve` as a real process; resolves once /readyz says ready. */
  async function serve(): Promise<{
    child: ChildProcess;
    logs: () => string;
    exit: Promise<number | null>;
  }> {
    const child = cli(['serve', '--config', config], { JWTEXCHANGE_CONFIG: '' });
    processes.push(child);
    let logs = '';
    child.stderr!.on('data', (d: Buffer) => (logs += d.toString()));
    const exit = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    await waitFor(
      async () => {
        if (child.exitCode !== null) throw new Error(`serve exited: ${logs}`);
        return (await fetch(`http://127.0.0.1:${ports.http}/readyz`)).status === 200;
      },
      'jwtexchange serve to be ready',
      30_000,
    );
    return { child, logs: () => logs, exit };
  }

  const userCall = async (sub: string, via: Transport) =>
    send(envoys[via].ingress.port('ingress'), {
      path: '/v2/namespaces',
      headers: { authorization: `Bearer ${await issuer.mint({ sub })}` },
    });
  const sagaCall = (sagaId: string, via: Transport) =>
    send(envoys[via].egress.port('egress'), {
      method: 'POST',
      path: '/v1/namespaces',
      host: 'vmcontroller',
      headers: { 'x-saga-id': sagaId },
    });

  /** Right means: 200 with this caller's identity, or the saga's service token. */
  function isRight(s: Pick<Sent, 'kind' | 'sub' | 'answer'>): boolean {
    if (s.answer.status !== 200) return false;
    const headers = (JSON.parse(s.answer.body) as { headers: Record<string, string> }).headers;
    if (s.kind === 'user') {
      return (
        headers['x-jwtauth-subject'] === s.sub && headers['x-jwtauth-issuer'] === issuer.issuer
      );
    }
    const payload = String(headers.authorization).split('.')[1] ?? '';
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<
      string,
      unknown
    >;
    return (
      claims.sub === 'gateway' && claims.aud === 'vmcontroller' && headers['x-saga-id'] === s.sub
    );
  }

  it('SIGTERM under load: in-flight and draining checks answered right, the gap is a retriable 503, retries succeed', async () => {
    const first = await serve();
    const sent: Sent[] = [];
    let n = 0;
    let stop = false;
    const worker = async (w: number) => {
      const via = TRANSPORTS[w % TRANSPORTS.length]!;
      while (!stop) {
        const i = n++;
        const kind = (i + w) % 3 === 0 ? 'saga' : 'user';
        const sub = kind === 'user' ? `user-${i}` : `saga-${i}`;
        const sentAt = Date.now();
        const answer = await (kind === 'user' ? userCall(sub, via) : sagaCall(sub, via)).catch(
          (err: unknown) => ({ status: 0, reason: String(err), body: '' }),
        );
        sent.push({ via, kind, sub, sentAt, at: Date.now(), answer });
        // A refused caller backs off before its next request, as a saga does.
        if (answer.status !== 200) await new Promise((r) => setTimeout(r, 100));
      }
    };
    const load = Promise.all(Array.from({ length: 8 }, (_, w) => worker(w)));

    await waitFor(() => sent.filter(isRight).length >= 100, 'the load to be running');
    const sigterm = Date.now();
    first.child.kill('SIGTERM');
    expect(await first.exit).toBe(0);
    const exited = Date.now();
    const second = await serve(); // the container restarts on the same ports
    const back = sent.length;
    await waitFor(
      () => sent.slice(back).filter(isRight).length >= 100,
      'the load after the restart',
    );
    stop = true;
    await load;

    const wrong = sent.filter((s) => !isRight(s) && s.answer.status !== 503);
    expect(wrong).toEqual([]);
    // While it drained (NOT_SERVING, listener still open) checks were answered, and right.
    // Sent after SIGTERM and answered before the process exited: not checks already in flight.
    const draining = sent.filter((s) => s.sentAt > sigterm && s.at < exited);
    for (const via of TRANSPORTS) {
      expect(draining.filter((s) => s.via === via && isRight(s)).length, via).toBeGreaterThan(0);
    }
    expect(first.logs()).toContain('"msg":"draining"');
    expect(first.logs()).toContain('"msg":"stopped"');
    // Refused requests are Envoy's 503 (it could not reach the sidecar), and nothing is lost:
    // each one, retried now, gets the right answer.
    const refused = sent.filter((s) => s.answer.status === 503);
    expect(refused.every((r) => r.answer.reason === undefined)).toBe(true);
    const retried: Sent[] = [];
    const retrier = async () => {
      for (let r = refused.pop(); r; r = refused.pop()) {
        retried.push({
          ...r,
          answer: await (r.kind === 'user' ? userCall(r.sub, r.via) : sagaCall(r.sub, r.via)),
        });
      }
    };
    const refusedCount = refused.length;
    await Promise.all(Array.from({ length: 8 }, retrier));
    expect(retried).toHaveLength(refusedCount);
    expect(retried.filter((r) => !isRight(r))).toEqual([]);
    // Envoy's own view: not a single denial; errors only where it could not reach the sidecar.
    let errors = 0;
    for (const via of TRANSPORTS) {
      const { ingress, egress } = envoys[via];
      const stats = (await ingress.stats('ext_authz')) + (await egress.stats('ext_authz'));
      expect(stats).toMatch(/http\.ingress\.ext_authz\.denied: 0\b/);
      expect(stats).toMatch(/http\.egress\.ext_authz\.denied: 0\b/);
      for (const m of stats.matchAll(/http\.(?:ingress|egress)\.ext_authz\.error: (\d+)/g)) {
        errors += Number(m[1]);
      }
    }
    expect(errors).toBe(refusedCount);
    second.child.kill('SIGTERM');
    expect(await second.exit).toBe(0);
  }, 90_000);
});
