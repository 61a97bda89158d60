import type { Server as HttpServer } from 'node:http';
import {
  deadlineIn,
  repeat,
  sleep,
  systemClock,
  systemTimers,
  type Clock,
  type Timers,
} from '../clock.js';
import type { Config } from '../config/schema.js';
import type { CheckDeps } from '../check/decide.js';
import { createCheckHandler } from '../check/handler.js';
import { InFlight } from '../check/in-flight.js';
import { compileRules } from '../config/rules.js';
import type { Logger } from '../log.js';
import { SidecarMetrics } from '../metrics/sidecar.js';
import type { PermissionChecker } from '../spicedb/permission-checker.js';
import type { Authorization, setupAuthorization } from '../spicedb/setup.js';
import { checkDirections, type AuthorizationParts } from './check-phases.js';
import { startGrpcServer, setServing, type GrpcServer } from './grpc-server.js';
import { asListenError, listenOn } from '../net/address.js';
import { createHttpServer } from './http-server.js';
import { setupInbound } from './inbound-setup.js';
import { setupOutbound } from './outbound-setup.js';
import { Readiness } from '../readiness.js';
import type { RemoteServiceTokens } from '../tokens/remote-service-tokens.js';

export interface RunningApp {
  readonly grpcPort: number;
  readonly httpPort: number;
  readonly readiness: Readiness;
  readonly metrics: SidecarMetrics;
  readonly deps: CheckDeps;
  /** Resolves once every readiness gate is ready (or rejects after timeoutMs). */
  whenReady(timeoutMs?: number): Promise<void>;
  /** Graceful stop: NOT_SERVING, wait drainDelay, stop accepting, finish in-flight checks, close. */
  shutdown(): Promise<void>;
}

export interface AppOptions {
  readonly logger: Logger;
  readonly clock?: Clock;
  /** Schedules of the token caches (refresh, backoff, discovery); the rest run on real time. */
  readonly timers?: Timers;
  readonly metrics?: SidecarMetrics;
  /**
   * Set in a worker process (`server.workers` > 1, see worker-main.ts): service tokens come from
   * the primary, and the primary serves the HTTP listener (httpPort is then 0).
   */
  readonly worker?: { readonly tokens: RemoteServiceTokens };
}

type SetupAuthorization = typeof setupAuthorization;

/**
 * The sidecar's composition root, read top to bottom: config → clients and caches → the phases
 * of each direction, in order (check-phases.ts) → listening servers.
 */
export async function startApp(config: Config, options: AppOptions): Promise<RunningApp> {
  const clock = options.clock ?? systemClock;
  const logger = options.logger;
  const metrics = options.metrics ?? new SidecarMetrics();
  const timers = options.timers ?? systemTimers;
  const readiness = new Readiness();

  // Clients and caches; each registers its readiness gates. SpiceDB (docs/authorization.md) is
  // set up while the key sets and service tokens load, so start-up waits for the slowest of
  // them rather than for their sum.
  // Key-set refreshes and SpiceDB schema retries run on the system's timers: tests drive the
  // token caches' schedules by hand without also stepping every background load.
  const background = systemTimers;
  const authzSetup = startAuthorization(config, {
    clock,
    timers: background,
    metrics,
    logger,
    readiness,
  });
  const outbound = setupOutbound(config.outbound, {
    clock,
    timers,
    metrics,
    logger,
    readiness,
    remoteTokens: options.worker?.tokens,
  });
  const inbound = setupInbound(config.inbound, {
    exchangeClient: outbound.client,
    clock,
    timers: background,
    metrics,
    logger,
    readiness,
  });

  // The phases, in order.
  const directions = checkDirections({
    inboundMode: config.inbound.mode,
    inbound,
    authorization: authzSetup?.parts,
    outbound: outbound.tokens,
    observe: (phase, seconds) => metrics.phaseDuration.observe({ phase }, seconds),
  });

  for (const s of inbound.sources) s.start();
  outbound.start();
  let authz: Authorization | undefined;
  try {
    authz = await authzSetup?.ready;
  } catch (err) {
    for (const s of inbound.sources) s.stop();
    outbound.stop();
    throw err;
  }
  const deps: CheckDeps = { ...directions, metrics, logger };
  const inFlight = new InFlight();
  let grpc: GrpcServer | undefined;
  let http: HttpServer | undefined;
  try {
    const grpcAddress = config.server.grpcAddress;
    grpc = await startGrpcServer(grpcAddress, createCheckHandler(deps, inFlight)).catch(
      (err: unknown) => {
        throw asListenError(err, 'server.grpcAddress', grpcAddress);
      },
    );
    if (!options.worker) http = createHttpServer(readiness, metrics, logger);
    const httpPort = http
      ? await listenOn(http, config.server.httpAddress, 'server.httpAddress')
      : 0;

    // gRPC health follows readiness as soon as a gate moves (components call recheck()); the
    // timer only catches changes that come with time alone, such as a key set going stale. It
    // runs on real time whatever timers drive the caches, so health never waits on a test.
    readiness.onChange((ready) => setServing(grpc!.health, ready));
    const syncHealth = () => void readiness.recheck();
    const stopHealthSync = repeat(systemTimers, syncHealth, 1_000);

    const app: RunningApp = {
      grpcPort: grpc.port,
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
        for (const s of inbound.sources) s.stop();
        outbound.stop();
        if (config.server.drainDelayMs > 0) {
          await sleep(config.server.drainDelayMs);
        }
        const grace = new Promise<'timeout'>((r) =>
          systemTimers.set(() => r('timeout'), config.server.shutdownGraceMs),
        );
        const grpcStopped = new Promise<void>((r) => grpc!.server.tryShutdown(() => r()));
        const drained = await Promise.race([inFlight.idle().then(() => grpcStopped), grace]);
        if (drained === 'timeout') {
          logger.warn('shutdown grace elapsed; closing remaining connections', {
            inFlight: inFlight.size,
          });
          grpc!.server.forceShutdown();
        }
        if (http) {
          const h = http;
          await new Promise<void>((r) => h.close(() => r()));
          h.closeAllConnections();
        }
        authz?.close();
      },
    };
    return app;
  } catch (err) {
    grpc?.server.forceShutdown();
    http?.close();
    for (const s of inbound.sources) s.stop();
    outbound.stop();
    authz?.close();
    throw err;
  }
}

/**
 * Starts SpiceDB authorization without waiting for it: `ready` settles once the client, gate and
 * checker exist (it rejects on a configuration error), and the checker of `parts` stands in until
 * then — a check that arrives first waits for it, it never skips authorization.
 */
function startAuthorization(
  config: Config,
  deps: Parameters<SetupAuthorization>[3],
): { ready: Promise<Authorization>; parts: AuthorizationParts } | undefined {
  if (!config.authorization || !config.spicedb) return undefined;
  const { spicedb, authorization } = config;
  const rules = compileRules(authorization);
  const logger = deps.logger.child({ component: 'spicedb' });
  // Loaded on demand: deployments without SpiceDB never load its client.
  const ready = import('../spicedb/setup.js').then((m) =>
    m.setupAuthorization(spicedb, authorization, rules, { ...deps, logger }),
  );
  ready.catch(() => undefined); // awaited by startApp; never an unhandled rejection
  let inner: PermissionChecker | undefined;
  void ready.then(
    (a) => (inner = a.checker),
    () => undefined,
  );
  const checker: PermissionChecker = {
    check: (spec, origin) =>
      inner ? inner.check(spec, origin) : ready.then((a) => a.checker.check(spec, origin)),
  };
  return { ready, parts: { config: authorization, rules, checker, logger } };
}
