import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { packageRoot } from '../package-root.js';

// Sub-millisecond work on the hot path, up to the Envoy timeout range.
export const CHECK_BUCKETS = [
  0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,
];
export const REMOTE_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/** nodejs_gc_duration_seconds: scavenges take 0.5–10 ms, mark-compacts tens to hundreds. */
const GC_BUCKETS = [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 1];

/** The package version, read once from the package's package.json. */
export const PACKAGE_VERSION: string = (() => {
  try {
    const pkg = JSON.parse(
      readFileSync(path.join(packageRoot(import.meta.url), 'package.json'), 'utf8'),
    ) as {
      version?: unknown;
    };
    return typeof pkg.version === 'string' ? pkg.version : 'unknown';
  } catch {
    return 'unknown';
  }
})();

/**
 * What every process's metrics have: their own registry, scrape-time hooks, build info, the
 * process metrics, and the JWKS loads (the sidecar's issuers, token-exchange's subject issuers).
 * Each process registers only its own families on top (sidecar.ts, token-exchange.ts); label
 * values come from closed sets (reason codes, phase names, configured issuers and audiences),
 * never from users, tokens or paths. docs/metrics.md documents each one; a test keeps them in sync.
 */
export class MetricsRegistry {
  readonly registry: Registry;
  readonly jwksFetches: Counter<'issuer' | 'result'>;
  readonly buildInfo: Gauge<'version'>;
  private readonly collectHooks = new Map<string, (() => void)[]>();

  /** Runs fn whenever the gauge is scraped, so values like ages are computed, not polled. */
  onCollect(gauge: Gauge<string>, fn: () => void): void {
    const name = (gauge as unknown as { name: string }).name;
    const hooks = this.collectHooks.get(name) ?? [];
    hooks.push(fn);
    this.collectHooks.set(name, hooks);
  }

  protected hooked(name: string) {
    return () => {
      for (const fn of this.collectHooks.get(name) ?? []) fn();
    };
  }

  constructor(options: { defaultMetrics?: boolean; version?: string } = {}) {
    const registry = new Registry();
    this.registry = registry;
    const r = [registry];
    this.jwksFetches = new Counter({
      name: 'jwtexchange_jwks_fetches_total',
      help: 'JWKS loads by issuer and result (success, failure).',
      labelNames: ['issuer', 'result'],
      registers: r,
    });
    this.buildInfo = new Gauge({
      name: 'jwtexchange_build_info',
      help: 'Always 1; the version label says which build is running.',
      labelNames: ['version'],
      aggregator: 'first',
      registers: r,
    });
    this.buildInfo.set({ version: options.version ?? PACKAGE_VERSION }, 1);
    if (options.defaultMetrics ?? true) {
      // GC buckets fine enough to see the young-generation pauses that set a check's p99.
      collectDefaultMetrics({ register: registry, gcDurationBuckets: GC_BUCKETS });
    }
  }
}
