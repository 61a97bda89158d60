import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { credentials, makeGenericClientConstructor, type ServiceError } from '@grpc/grpc-js';
import { service as healthService } from 'grpc-health-check';
import { stringify } from 'yaml';
import { startDevEnvironment } from '../../src/dev/dev-environment.js';
import { silentLogger } from '../../src/log.js';
import { freePort } from '../../test/helpers/ports.js';
import { spawnLogged, stopChild } from '../lib/child.js';
import { serverEnv } from '../lib/server-env.js';
import { CLI } from '../lib/paths.js';
import type { BenchCase, CaseResult } from './case.js';

const STARTS = 5;

type HealthClient = {
  check(
    req: { service: string },
    cb: (err: ServiceError | null, res?: { status: string }) => void,
  ): void;
  close(): void;
};

/**
 * Milliseconds from `t0` until grpc.health.v1 answers SERVING, polled every 5 ms. A new client per
 * attempt: a grpc-js channel that was refused waits out its re-resolution interval (30 s by
 * default) before it connects again, which would measure grpc-js, not the server.
 */
async function untilServing(address: string, t0: number, timeoutMs = 30_000): Promise<number> {
  const Health = makeGenericClientConstructor(healthService, 'Health');
  for (;;) {
    const client = new Health(address, credentials.createInsecure()) as unknown as HealthClient;
    const status = await new Promise<string | undefined>((resolve) =>
      client.check({ service: '' }, (err, res) => resolve(err ? undefined : res?.status)),
    );
    client.close();
    if (status === 'SERVING') return performance.now() - t0;
    if (performance.now() - t0 > timeoutMs) throw new Error('never SERVING');
    await new Promise((r) => setTimeout(r, 5));
  }
}

/**
 * Start → gRPC health SERVING on the embedded default: the development environment (dev PKI,
 * reference token-exchange over mTLS, dev auth.service, the embedded SpiceDB engine) runs in the
 * bench process, and `jwtexchange serve` is started on its configuration — one process, as
 * `jwtexchange dev` runs it — so every readiness gate is real: key sets fetched over HTTPS, the
 * vmcontroller service token fetched over mTLS, the SpiceDB schema read. Median of 5 starts.
 */
export const startCase: BenchCase = {
  name: 'start',
  summary: 'start → gRPC health SERVING, embedded default (serve, one process; median of 5)',
  async run(ctx): Promise<CaseResult> {
    const dir = mkdtempSync(path.join(tmpdir(), 'jwtx-bench-start-'));
    const ports = {
      grpc: await freePort(),
      http: await freePort(),
      sts: await freePort(),
      auth: await freePort(),
    };
    const env = await startDevEnvironment(dir, silentLogger, ports);
    try {
      const file = path.join(dir, 'config.yaml');
      const doc = { ...env.document, server: { ...(env.document.server as object), workers: 1 } };
      writeFileSync(file, stringify(doc));
      const times: number[] = [];
      for (let i = 0; i < STARTS; i++) {
        const logFile = path.join(ctx.resultsDir, 'start.log');
        const t0 = performance.now();
        const child = spawnLogged([CLI, 'serve', '--config', file], logFile, { env: serverEnv() });
        try {
          times.push(await untilServing(`127.0.0.1:${ports.grpc}`, t0));
        } finally {
          await stopChild(child);
        }
      }
      const sorted = [...times].sort((a, b) => a - b);
      const median = sorted[Math.floor(sorted.length / 2)]!;
      return {
        kind: 'measured',
        name: this.name,
        summary: this.summary,
        load: {
          generator: 'h2load',
          completed: STARTS,
          failed: 0,
          seconds: 0,
          rps: NaN,
          latencyMs: {
            p50: median,
            p90: sorted.at(-1)!,
            p99: sorted.at(-1)!,
            max: sorted.at(-1)!,
            mean: median,
          },
        },
        served: { ok: STARTS, denied: 0 },
        problems: [],
        extras: {
          startToServingMs: Math.round(median),
          starts: times.map((t) => Math.round(t)).join('/'),
        },
      };
    } finally {
      await env.close();
      // The dev environment's keys and certificates: nothing of a run is left in /tmp.
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
