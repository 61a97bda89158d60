import { systemClock, systemTimers } from '../clock.js';
import type { Config } from '../config/schema.js';
import type { Logger } from '../log.js';
import { SidecarMetrics } from '../metrics/sidecar.js';
import { listenOn } from '../net/address.js';
import { clusterMetrics } from './cluster-metrics.js';
import { createHttpServer } from './http-server.js';
import { setupOutbound } from './outbound-setup.js';
import { Readiness } from '../readiness.js';
import { WorkerPool } from './worker-pool.js';

export interface RunningPrimary {
  readonly grpcPort: number;
  readonly httpCheckPort: number | undefined;
  readonly httpPort: number;
  readonly readiness: Readiness;
  /** Graceful stop of the pod: not ready, workers drain (each as a single process would), exit. */
  shutdown(): Promise<void>;
}

/**
 * The primary process of `server.workers` > 1. It answers no checks: it owns what must exist
 * once per pod — the service-token cache (the only process that calls token-exchange for service
 * tokens), the HTTP listener with /readyz for the pod and one /metrics summed over the workers —
 * and runs the workers that answer checks on the shared gRPC port.
 */
export async function startPrimary(
  config: Config,
  options: { logger: Logger; configFile: string; workers: number },
): Promise<RunningPrimary> {
  const { logger } = options;
  const metrics = new SidecarMetrics();
  const readiness = new Readiness();
  // The cache reports tokens to the pool, which needs the cache: tie the knot afterwards.
  const workersOf: { pool?: WorkerPool } = {};
  const outbound = setupOutbound(config.outbound, {
    clock: systemClock,
    timers: systemTimers,
    metrics,
    logger,
    readiness,
    onStored: (token) => workersOf.pool?.broadcast(token),
  });
  const workers = new WorkerPool({
    count: options.workers,
    configFile: options.configFile,
    logger,
    tokens: outbound.cache,
    changed: () => readiness.recheck(),
  });
  workersOf.pool = workers;
  readiness.register('workers', () => workers.status());
  const http = createHttpServer(readiness, clusterMetrics(metrics.registry, workers), logger);
  const httpPort = await listenOn(http, config.server.httpAddress, 'server.httpAddress');
  outbound.start();
  const { grpcPort, httpCheckPort } = await workers.start().catch(async (err: unknown) => {
    // A worker could not start (a port taken, …): stop everything this start began.
    await workers.drain(10_000);
    outbound.stop();
    http.closeAllConnections();
    await new Promise<void>((r) => http.close(() => r()));
    throw err;
  });
  return {
    grpcPort,
    httpCheckPort,
    httpPort,
    readiness,
    async shutdown() {
      readiness.startDraining();
      const { drainDelayMs, shutdownGraceMs } = config.server;
      await workers.drain(drainDelayMs + shutdownGraceMs + 5_000);
      outbound.stop();
      await new Promise<void>((r) => http.close(() => r()));
      http.closeAllConnections();
    },
  };
}
