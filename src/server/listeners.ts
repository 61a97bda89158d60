import type { Server as HttpServer } from 'node:http';
import { deadlineIn, repeat, sleep, systemClock, systemTimers } from '../clock.js';
import type { CheckDeps } from '../check/decide.js';
import { createCheckRunner } from '../check/check-runner.js';
import { createCheckHandler } from '../check/handler.js';
import { InFlight } from '../check/in-flight.js';
import type { Config } from '../config/schema.js';
import type { SidecarMetrics } from '../metrics/sidecar.js';
import { asListenError, listenOn } from '../net/address.js';
import type { Readiness } from '../readiness.js';
import { startGrpcServer, setServing, type GrpcServer } from './grpc-server.js';
import { createHttpCheckServer } from './http-check-server.js';
import { createHttpServer } from './http-server.js';

export interface RunningApp {
  readonly grpcPort: number;
  /** The HTTP check listener's port (server.httpCheckAddress); undefined when it is off. */
  readonly httpCheckPort: number | undefined;
  readonly httpPort: number;
  readonly readiness: Readiness;
  readonly metrics: SidecarMetrics;
  readonly deps: CheckDeps;
  /** Resolves once every readiness gate is ready (or rejects after timeoutMs). */
  whenReady(timeoutMs?: number): Promise<void>;
  /** Graceful stop: NOT_SERVING, wait drainDelay, stop accepting, finish in-flight checks, close. */
  shutdown(): Promise<void>;
}

export interface ListenerParts {
  /** The check's directions, metrics and logger. */
  readonly deps: CheckDeps & { readonly metrics: SidecarMetrics };
  readonly readiness: Readiness;
  /** False in a worker process: the primary serves /readyz and /metrics for the pod. */
  readonly withHttp: boolean;
  /** Stops background refreshes (key sets, tokens) when shutdown begins. */
  readonly stopBackground: () => void;
  /** Closes long-lived clients (SpiceDB) once the listeners are closed. */
  readonly closeClients: () => void;
}

/**
 * The sidecar's listeners: the ext_authz gRPC server (with gRPC health following readiness), the
 * ext_authz HTTP server when configured (http-check-server.ts), and the HTTP listener (/healthz,
 * /readyz, /metrics); shutdown drains them in order. On a failed
 * bind it closes what it opened and rejects with a ListenError naming the setting.
 */
export async function startListeners(config: Config, parts: ListenerParts): Promise<RunningApp> {
  const { deps, readiness } = parts;
  const { metrics, logger } = deps;
  const inFlight = new InFlight();
  let grpc: GrpcServer | undefined;
  let http: HttpServer | undefined;
  let httpCheck: HttpServer | undefined;
  try {
    // One runner answers both transports: the same metrics, log lines and in-flight count.
    const run = createCheckRunner(deps, inFlight);
    const grpcAddress = config.server.grpcAddress;
    grpc = await startGrpcServer(grpcAddress, createCheckHandler(run), {
      onProtocolError: (scope, error, peer) => {
        metrics.grpcProtocolErrors.inc({ scope, error });
        // A connection error ends every call on it, and such a peer is rarely Envoy: say who. A
        // stream's reset stays a count, or a peer could write a line per frame.
        if (scope === 'connection')
          logger.warn('grpc connection ended on an error', { error, peer });
      },
    }).catch((err: unknown) => {
      throw asListenError(err, 'server.grpcAddress', grpcAddress);
    });
    const { httpCheckAddress, httpCheckTimeoutMs } = config.server;
    let httpCheckPort: number | undefined;
    if (httpCheckAddress) {
      httpCheck = createHttpCheckServer(run, { timeoutMs: httpCheckTimeoutMs, logger });
      httpCheckPort = await listenOn(httpCheck, httpCheckAddress, 'server.httpCheckAddress');
    }
    if (parts.withHttp) http = createHttpServer(readiness, metrics, logger);
    const httpPort = http
      ? await listenOn(http, config.server.httpAddress, 'server.httpAddress')
      : 0;

    // gRPC health follows readiness as soon as a gate moves (components call recheck()); the
    // timer only catches changes that come with time alone, such as a key set going stale. It
    // runs on real time whatever timers drive the caches, so health never waits on a test.
    readiness.onChange((ready) => setServing(grpc!.health, ready));
    const syncHealth = () => void readiness.recheck();
    const stopHealthSync = repeat(systemTimers, syncHealth, 1_000);

    return {
      grpcPort: grpc.port,
      httpCheckPort,
      httpPort,
      readiness,
      metrics,
      deps,
      async whenReady(timeoutMs = 30_000) {
        const deadline = deadlineIn(timeoutMs); // real time: patience, whatever the clock
        for (;;) {
          const report = readiness.report();
          if (report.ready) return syncHealth();
          if (systemClock.now() > deadline) {
            const waiting = Object.entries(report.gates)
              .filter(([, g]) => !g.ready)
              .map(([n, g]) => `${n} (${g.detail ?? 'not ready'})`);
            throw new Error(`not ready after ${timeoutMs} ms: ${waiting.join(', ')}`);
          }
          await sleep(25);
        }
      },
      async shutdown() {
        readiness.startDraining();
        syncHealth();
        stopHealthSync();
        parts.stopBackground();
        if (config.server.drainDelayMs > 0) {
          await sleep(config.server.drainDelayMs);
        }
        await drain(grpc!, httpCheck, inFlight, config.server.shutdownGraceMs, deps.logger);
        if (http) {
          const h = http;
          await new Promise<void>((r) => h.close(() => r()));
          h.closeAllConnections();
        }
        parts.closeClients();
      },
    };
  } catch (err) {
    grpc?.server.forceShutdown();
    httpCheck?.close();
    httpCheck?.closeAllConnections();
    http?.close();
    throw err;
  }
}

/** Stops accepting and lets in-flight checks finish, up to the grace period; then cuts the rest. */
async function drain(
  grpc: GrpcServer,
  httpCheck: HttpServer | undefined,
  inFlight: InFlight,
  graceMs: number,
  logger: CheckDeps['logger'],
): Promise<void> {
  let graceTimer: unknown;
  const grace = new Promise<'timeout'>((r) => {
    graceTimer = systemTimers.set(() => r('timeout'), graceMs);
  });
  // Open health Watch streams would hold their connections open until the grace runs out.
  grpc.health.shutdown();
  const grpcStopped = new Promise<void>((r) => grpc.server.tryShutdown(() => r()));
  // Stops accepting and closes idle keep-alive connections; a busy one closes after its answer.
  const httpStopped = new Promise<void>((r) => (httpCheck ? httpCheck.close(() => r()) : r()));
  const stopped = Promise.all([grpcStopped, httpStopped]);
  const drained = await Promise.race([inFlight.idle().then(() => stopped), grace]);
  // A drain that finished early must not hold the process open for the rest of the grace period.
  systemTimers.clear(graceTimer);
  if (drained === 'timeout') {
    logger.warn('shutdown grace elapsed; closing remaining connections', {
      inFlight: inFlight.size,
    });
    grpc.server.forceShutdown();
    httpCheck?.closeAllConnections();
  }
}
