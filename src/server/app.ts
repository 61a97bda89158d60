import { systemClock, systemTimers, type Clock, type Timers } from '../clock.js';
import type { Config } from '../config/schema.js';
import { compileRules } from '../config/rules.js';
import type { Logger } from '../log.js';
import { SidecarMetrics } from '../metrics/sidecar.js';
import type { PermissionChecker } from '../spicedb/permission-checker.js';
import type { Authorization, setupAuthorization } from '../spicedb/setup.js';
import { checkDirections, type AuthorizationParts } from './check-phases.js';
import { setupInbound } from './inbound-setup.js';
import { setupOutbound } from './outbound-setup.js';
import { Readiness } from '../readiness.js';
import { startListeners, type RunningApp } from './listeners.js';
import type { RemoteServiceTokens } from '../tokens/remote-service-tokens.js';

export type { RunningApp } from './listeners.js';

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
    observe: (phase, seconds) => metrics.observePhaseDuration(phase, seconds),
  });

  // Background work, SpiceDB's setup, then the listeners.
  const stopBackground = () => {
    for (const s of inbound.sources) s.stop();
    outbound.stop();
  };
  for (const s of inbound.sources) s.start();
  outbound.start();
  let authz: Authorization | undefined;
  try {
    authz = await authzSetup?.ready;
  } catch (err) {
    stopBackground();
    throw err;
  }
  try {
    return await startListeners(config, {
      deps: { ...directions, metrics, logger },
      readiness,
      withHttp: !options.worker,
      stopBackground,
      closeClients: () => authz?.close(),
    });
  } catch (err) {
    stopBackground();
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
    cached: (spec, origin) => inner?.cached?.(spec, origin),
  };
  return { ready, parts: { config: authorization, rules, checker, logger } };
}
