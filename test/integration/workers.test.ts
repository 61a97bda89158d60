import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { credentials, makeGenericClientConstructor, type ServiceError } from '@grpc/grpc-js';
import { service as healthService } from 'grpc-health-check';
import { stringify } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { ensureDevIssuer, type DevIssuer } from '../../src/dev/dev-issuer.js';
import { AuthorizationClient, syntheticCheckRequest } from '../../src/envoy/client.js';
import type { CheckResponse } from '../../src/envoy/types.js';
import { cli, startCliServer } from '../helpers/cli.js';
import { waitFor } from '../helpers/ports.js';
import { startTestTokenExchange, type TestTokenExchange } from '../helpers/token-exchange.js';

/**
 * `server.workers: 2` on a real `jwtexchange serve`: two worker processes answer on one port,
 * the primary owns the service tokens (one exchange per audience for the pod, against the real
 * token-exchange over mTLS), serves one /metrics summed over the workers and one /readyz, and a
 * SIGTERM drains every worker.
 */

interface Serving {
  readonly child: ChildProcess;
  readonly grpc: string;
  readonly http: string;
  logs(): string;
  exited: Promise<number | null>;
}

const children: ChildProcess[] = [];
afterAll(() => children.forEach((c) => c.kill('SIGKILL')));

/** Starts serve on ports the system picks and reads them from its `serving` log line. */
async function serve(doc: Record<string, unknown>, dir: string): Promise<Serving> {
  const file = path.join(dir, 'config.yaml');
  writeFileSync(file, stringify(doc));
  const child = cli(['serve', '--config', file], { JWTEXCHANGE_CONFIG: '' });
  children.push(child);
  let logs = '';
  child.stdout!.on('data', (d: Buffer) => (logs += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (logs += d.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const line = await waitFor(
    () => logs.split('\n').find((l) => l.includes('"msg":"serving"')),
    'serve to report its ports',
    60_000,
  );
  const { grpcPort, httpPort } = JSON.parse(line!) as { grpcPort: number; httpPort: number };
  return {
    child,
    grpc: `127.0.0.1:${grpcPort}`,
    http: `http://127.0.0.1:${httpPort}`,
    logs: () => logs,
    exited,
  };
}

function serverSection(extra: Record<string, unknown> = {}) {
  return {
    grpcAddress: '127.0.0.1:0',
    httpAddress: '127.0.0.1:0',
    workers: 2,
    shutdownGraceMs: 5_000,
    ...extra,
  };
}

async function checksTotal(httpBase: string): Promise<number> {
  const text = await (await fetch(`${httpBase}/metrics`)).text();
  return text
    .split('\n')
    .filter((l) => l.startsWith('jwtexchange_checks_total{'))
    .reduce((sum, l) => sum + Number(l.split(' ').at(-1)), 0);
}

const injected = (res: CheckResponse) =>
  res.ok_response?.headers.find((h) => h.header.key === 'authorization')?.header.value;

describe('server.workers: 2', () => {
  let sts: TestTokenExchange | undefined;
  afterAll(() => sts?.close());

  it('one token exchange per audience for the pod, one /metrics summed over the workers', async () => {
    sts = await startTestTokenExchange({ services: ['gateway', 'vmcontroller'], ttlSeconds: 600 });
    const dir = mkdtempSync(path.join(tmpdir(), 'jwtx-workers-'));
    const s = await serve(
      {
        server: serverSection(),
        outbound: {
          tokenExchange: {
            ...sts.clientSettings('gateway'),
          },
          // vmcontroller is fetched before readiness; gateway only when a check asks for it.
          audiences: [{ audience: 'vmcontroller' }, { audience: 'gateway', prefetch: false }],
        },
      },
      dir,
    );
    await waitFor(async () => (await fetch(`${s.http}/readyz`)).status === 200, 'ready', 60_000);
    const report = (await (await fetch(`${s.http}/readyz`)).json()) as {
      gates: Record<string, { detail?: string }>;
    };
    expect(report.gates.workers?.detail).toContain('2/2 workers ready');
    expect(report.gates['service-token:vmcontroller']).toMatchObject({ ready: true });

    const outbound = (audience: string) =>
      syntheticCheckRequest({
        headers: { 'x-saga-id': 's-1' },
        extensions: {
          'jwtexchange.direction': 'outbound',
          'jwtexchange.audience': audience,
          'jwtexchange.when-header': 'x-saga-id',
        },
      });
    // node:cluster hands connections to the workers in turn: the first client's connection goes
    // to one worker, the second's to the other.
    const first = new AuthorizationClient(s.grpc);
    const second = new AuthorizationClient(s.grpc);
    try {
      const a = await Promise.all(
        Array.from({ length: 10 }, () => first.check(outbound('vmcontroller'))),
      );
      expect(await checksTotal(s.http)).toBe(10);
      const b = await Promise.all(
        Array.from({ length: 7 }, () => second.check(outbound('vmcontroller'))),
      );
      expect(await checksTotal(s.http)).toBe(17);
      const tokens = new Set([...a, ...b].map(injected));
      expect(tokens.size).toBe(1);
      expect([...tokens][0]).toMatch(/^Bearer ey/);

      // Both workers ask for a token nobody fetched yet, at once: the primary exchanges once.
      const before = sts.requestCount();
      const cold = await Promise.all(
        [first, second, first, second].map((c) => c.check(outbound('gateway'))),
      );
      expect(new Set(cold.map(injected)).size).toBe(1);
      expect(cold.every((r) => (r.status?.code ?? 0) === 0)).toBe(true);
      // And from then on it is pushed to both: no further exchange.
      await Promise.all([first, second].map((c) => c.check(outbound('gateway'))));
      expect(sts.requestCount() - before).toBe(1);
      // In all: one exchange per audience for the pod (vmcontroller at start, gateway on demand).
      expect(sts.requestCount()).toBe(2);
      const metrics = await (await fetch(`${s.http}/metrics`)).text();
      expect(metrics).toMatch(
        /jwtexchange_service_token_exchanges_total\{audience="vmcontroller",result="success"\} 1\n/,
      );
      expect(metrics).toMatch(/^nodejs_eventloop_lag_p99_seconds /m);
      // The GC histogram with buckets fine enough for scavenges (labels in either order).
      expect(metrics).toMatch(/^nodejs_gc_duration_seconds_bucket\{[^}]*le="0.001"[^}]*\} /m);
    } finally {
      first.close();
      second.close();
    }
    s.child.kill('SIGTERM');
    expect(await s.exited).toBe(0);
  }, 120_000);

  it('SIGTERM: not ready, NOT_SERVING, in-flight checks complete in every worker, exit 0', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'jwtx-workers-drain-'));
    const issuer: DevIssuer = await ensureDevIssuer(dir);
    // A JWKS endpoint that answers slowly, so checks are still waiting for keys at SIGTERM.
    const jwks = readFileSync(issuer.jwksFile);
    const slow = http.createServer((_req, res) => {
      setTimeout(() => res.writeHead(200, { 'content-type': 'application/json' }).end(jwks), 2_000);
    });
    await new Promise<void>((r) => slow.listen(0, '127.0.0.1', r));
    try {
      const s = await serve(
        {
          server: serverSection({ drainDelayMs: 500 }),
          inbound: {
            issuers: [
              {
                issuer: issuer.issuer,
                audiences: ['gateway'],
                jwksUri: `http://127.0.0.1:${(slow.address() as AddressInfo).port}/jwks`,
              },
            ],
          },
        },
        dir,
      );
      const token = await issuer.mint({ sub: 'alice' });
      const clients = [new AuthorizationClient(s.grpc), new AuthorizationClient(s.grpc)];
      const inFlight = clients.map((c) =>
        c.check(syntheticCheckRequest({ headers: { authorization: `Bearer ${token}` } }), 20_000),
      );
      await new Promise((r) => setTimeout(r, 200));
      s.child.kill('SIGTERM');

      const draining = await waitFor(async () => {
        const res = await fetch(`${s.http}/readyz`);
        const body = (await res.json()) as { draining: boolean };
        return res.status === 503 && body.draining;
      }, '/readyz to report draining');
      expect(draining).toBe(true);
      const Health = makeGenericClientConstructor(healthService, 'Health');
      const health = new Health(s.grpc, credentials.createInsecure()) as unknown as {
        check(
          req: { service: string },
          cb: (err: ServiceError | null, res?: { status: string }) => void,
        ): void;
        close(): void;
      };
      const status = await waitFor(
        () =>
          new Promise<string | undefined>((resolve) =>
            health.check({ service: '' }, (err, res) =>
              resolve(!err && res?.status === 'NOT_SERVING' ? res.status : undefined),
            ),
          ),
        'gRPC health NOT_SERVING',
      );
      health.close();
      expect(status).toBe('NOT_SERVING');

      for (const res of await Promise.all(inFlight)) {
        expect(res.status?.code ?? 0).toBe(0);
        expect(
          res.ok_response?.headers.find((h) => h.header.key === 'x-jwtauth-subject')?.header.value,
        ).toBe('alice');
      }
      clients.forEach((c) => c.close());
      expect(await s.exited).toBe(0);
      expect(s.logs()).toContain('"msg":"stopped"');
      expect(s.logs()).not.toContain('exited unexpectedly');
      await expect(fetch(`${s.http}/healthz`)).rejects.toThrow();
    } finally {
      slow.close();
    }
  }, 120_000);
});

describe('server.workers: 2 with server.httpCheckAddress', () => {
  it('every worker answers HTTP checks on the one port --addresses-file names; SIGTERM with idle keep-alive connections exits 0', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'jwtx-workers-http-'));
    const issuer = await ensureDevIssuer(dir);
    const file = path.join(dir, 'config.yaml');
    writeFileSync(
      file,
      stringify({
        server: serverSection({ httpCheckAddress: '127.0.0.1:0' }),
        inbound: {
          issuers: [{ issuer: issuer.issuer, audiences: ['gateway'], jwksFile: issuer.jwksFile }],
        },
      }),
    );
    const s = await startCliServer(['serve', '--config', file], { JWTEXCHANGE_CONFIG: '' });
    children.push(s.child);
    const bound = new URL(`http://${s.addresses.httpCheck}`);
    const [host, port] = [bound.hostname, Number(bound.port)];
    expect(host).toBe('127.0.0.1');
    expect(port).toBeGreaterThan(0);
    // Like Envoy: a kept-alive connection per concurrent check. node:cluster hands the
    // connections to the workers in turn.
    const agents = [1, 2].map(() => new http.Agent({ keepAlive: true, maxSockets: 1 }));
    const check = (agent: http.Agent) =>
      new Promise<number>((resolve, reject) => {
        const req = http.request({ host, port, path: '/v2/x', agent }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        });
        req.on('error', reject);
        req.end();
      });
    try {
      for (let i = 0; i < 3; i++) {
        expect(await Promise.all(agents.map(check))).toEqual([401, 401]);
      }
      const workers = await waitFor(() => {
        const denying = new Set(
          s
            .output()
            .split('\n')
            .filter((l) => l.includes('"msg":"deny"') && l.includes('missing_token'))
            .map((l) => (JSON.parse(l) as { worker?: number }).worker),
        );
        return denying.size === 2 ? [...denying].sort() : undefined;
      }, 'a denial logged by each worker');
      expect(workers).toEqual([1, 2]);
    } finally {
      // The connections stay open and idle, as Envoy keeps them.
      s.child.kill('SIGTERM');
      expect(await s.exited).toBe(0);
      // Idle connections do not hold the drain up until the grace period.
      expect(s.output()).toContain('"msg":"stopped"');
      expect(s.output()).not.toContain('shutdown grace elapsed');
      agents.forEach((a) => a.destroy());
    }
  }, 120_000);
});
