import { readFileSync } from 'node:fs';
import {
  Counter,
  Gauge,
  Histogram,
  Registry,
  collectDefaultMetrics,
  type LabelValues,
} from 'prom-client';
import type { ReasonCode } from './errors.js';

/**
 * Every metric the sidecar exports, in one place. With `server.workers` > 1 the primary sums each
 * family over its workers (cluster-metrics.ts) unless the family names another `aggregator`. Label values come from closed sets (reason
 * codes, phase names, configured issuers and audiences), never from users, tokens or paths.
 * docs/metrics.md documents each one; a test keeps the two in sync.
 */

// Sub-millisecond work on the hot path, up to the Envoy timeout range.
const CHECK_BUCKETS = [
  0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,
];
export const REMOTE_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/** nodejs_gc_duration_seconds: scavenges take 0.5–10 ms, mark-compacts tens to hundreds. */
const GC_BUCKETS = [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 1];

export type CheckDecisionLabel = 'allow' | 'deny' | 'dry_run';

/** The package version, read once; from src/ and from dist/ alike, package.json is one level up. */
export const PACKAGE_VERSION: string = (() => {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
      version?: unknown;
    };
    return typeof pkg.version === 'string' ? pkg.version : 'unknown';
  } catch {
    return 'unknown';
  }
})();

export class Metrics {
  readonly registry: Registry;
  readonly checks: Counter<'direction' | 'decision' | 'reason'>;
  readonly checkDuration: Histogram<'direction'>;
  readonly phaseDuration: Histogram<'phase'>;
  readonly checksInFlight: Gauge;
  readonly verifiedCache: Counter<'result'>;
  readonly jwksFetches: Counter<'issuer' | 'result'>;
  readonly jwksAge: Gauge<'issuer'>;
  readonly jwksKeys: Gauge<'issuer'>;
  readonly serviceTokenExchanges: Counter<'audience' | 'result'>;
  readonly serviceTokenExchangeDuration: Histogram;
  readonly serviceTokenRefreshes: Counter<'audience' | 'result'>;
  readonly serviceTokenServedStale: Counter<'audience'>;
  readonly serviceTokenWaits: Counter<'audience'>;
  readonly serviceTokenExpiry: Gauge<'audience'>;
  readonly delegatedTokenExchanges: Counter<'audience' | 'result'>;
  readonly delegatedTokenExchangeDuration: Histogram;
  readonly delegatedTokenLookups: Counter<'audience' | 'result'>;
  readonly delegatedTokenRefreshes: Counter<'audience' | 'result'>;
  readonly delegatedTokenEvictions: Counter<'reason'>;
  readonly delegatedTokenEntries: Gauge;
  readonly spicedbChecks: Counter<'resource_type' | 'permission' | 'result'>;
  readonly spicedbCheckDuration: Histogram;
  readonly spicedbDecisionCache: Counter<'result'>;
  readonly stsRequests: Counter<'grant' | 'result'>;
  readonly stsRequestDuration: Histogram<'grant'>;
  readonly buildInfo: Gauge<'version'>;

  private readonly checkChildren = new Map<string, { inc(): void }>();
  private readonly collectHooks = new Map<string, (() => void)[]>();

  /** Runs fn whenever the gauge is scraped, so values like ages are computed, not polled. */
  onCollect(gauge: Gauge<string>, fn: () => void): void {
    const name = (gauge as unknown as { name: string }).name;
    const hooks = this.collectHooks.get(name) ?? [];
    hooks.push(fn);
    this.collectHooks.set(name, hooks);
  }

  private hooked(name: string) {
    return () => {
      for (const fn of this.collectHooks.get(name) ?? []) fn();
    };
  }

  constructor(options: { defaultMetrics?: boolean; version?: string } = {}) {
    const registry = new Registry();
    this.registry = registry;
    const r = [registry];
    this.checks = new Counter({
      name: 'jwtexchange_checks_total',
      help: 'ext_authz checks by direction, decision (allow, deny, dry_run) and reason code.',
      labelNames: ['direction', 'decision', 'reason'],
      registers: r,
    });
    this.checkDuration = new Histogram({
      name: 'jwtexchange_check_duration_seconds',
      help: 'Time from CheckRequest received to CheckResponse sent, by direction.',
      labelNames: ['direction'],
      buckets: CHECK_BUCKETS,
      registers: r,
    });
    this.phaseDuration = new Histogram({
      name: 'jwtexchange_phase_duration_seconds',
      help: 'Time spent in each pipeline phase.',
      labelNames: ['phase'],
      buckets: CHECK_BUCKETS,
      registers: r,
    });
    this.checksInFlight = new Gauge({
      name: 'jwtexchange_checks_in_flight',
      help: 'Checks being evaluated right now.',
      registers: r,
    });
    this.verifiedCache = new Counter({
      name: 'jwtexchange_verified_token_cache_total',
      help: 'Verified-token cache lookups by result (hit, miss).',
      labelNames: ['result'],
      registers: r,
    });
    this.jwksFetches = new Counter({
      name: 'jwtexchange_jwks_fetches_total',
      help: 'JWKS loads by issuer and result (success, failure).',
      labelNames: ['issuer', 'result'],
      registers: r,
    });
    this.jwksAge = new Gauge({
      name: 'jwtexchange_jwks_age_seconds',
      help: 'Seconds since the issuer key set was last loaded successfully.',
      labelNames: ['issuer'],
      aggregator: 'max',
      registers: r,
      collect: this.hooked('jwtexchange_jwks_age_seconds'),
    });
    this.jwksKeys = new Gauge({
      name: 'jwtexchange_jwks_keys',
      help: 'Keys in the issuer key set.',
      labelNames: ['issuer'],
      aggregator: 'max',
      registers: r,
    });
    this.serviceTokenExchanges = new Counter({
      name: 'jwtexchange_service_token_exchanges_total',
      help: 'Calls to token-exchange for service tokens, by audience and result (success, refused, error).',
      labelNames: ['audience', 'result'],
      registers: r,
    });
    this.serviceTokenExchangeDuration = new Histogram({
      name: 'jwtexchange_service_token_exchange_duration_seconds',
      help: 'Duration of one call to token-exchange.',
      buckets: REMOTE_BUCKETS,
      registers: r,
    });
    this.serviceTokenRefreshes = new Counter({
      name: 'jwtexchange_service_token_refreshes_total',
      help: 'Background refreshes of cached service tokens, by audience and result (success, failure).',
      labelNames: ['audience', 'result'],
      registers: r,
    });
    this.serviceTokenServedStale = new Counter({
      name: 'jwtexchange_service_token_served_stale_total',
      help: 'Injections that used a cached token past its refresh point because refreshing failed.',
      labelNames: ['audience'],
      registers: r,
    });
    this.serviceTokenWaits = new Counter({
      name: 'jwtexchange_service_token_waits_total',
      help: 'Checks that had to wait for an exchange because no usable token was cached (cold start).',
      labelNames: ['audience'],
      registers: r,
    });
    this.serviceTokenExpiry = new Gauge({
      name: 'jwtexchange_service_token_expiry_seconds',
      help: 'Seconds until the cached service token for the audience expires (negative: expired).',
      labelNames: ['audience'],
      aggregator: 'min',
      registers: r,
      collect: this.hooked('jwtexchange_service_token_expiry_seconds'),
    });
    this.delegatedTokenExchanges = new Counter({
      name: 'jwtexchange_delegated_token_exchanges_total',
      help: 'Calls to token-exchange for saga-delegated tokens, by audience and result (success, refused, error).',
      labelNames: ['audience', 'result'],
      registers: r,
    });
    this.delegatedTokenExchangeDuration = new Histogram({
      name: 'jwtexchange_delegated_token_exchange_duration_seconds',
      help: 'Duration of one delegated-token call to token-exchange.',
      buckets: REMOTE_BUCKETS,
      registers: r,
    });
    this.delegatedTokenLookups = new Counter({
      name: 'jwtexchange_delegated_token_lookups_total',
      help: 'Delegated-token cache lookups by audience and result (hit, miss, refused: a remembered refusal).',
      labelNames: ['audience', 'result'],
      registers: r,
    });
    this.delegatedTokenRefreshes = new Counter({
      name: 'jwtexchange_delegated_token_refreshes_total',
      help: 'Background refreshes of cached delegated tokens, by audience and result (success, failure).',
      labelNames: ['audience', 'result'],
      registers: r,
    });
    this.delegatedTokenEvictions = new Counter({
      name: 'jwtexchange_delegated_token_evictions_total',
      help: 'Delegated-token cache entries dropped, by reason (idle, capacity).',
      labelNames: ['reason'],
      registers: r,
    });
    this.delegatedTokenEntries = new Gauge({
      name: 'jwtexchange_delegated_token_cache_entries',
      help: 'Entries (audience, saga) in the delegated-token cache.',
      registers: r,
      collect: this.hooked('jwtexchange_delegated_token_cache_entries'),
    });
    this.spicedbChecks = new Counter({
      name: 'jwtexchange_spicedb_checks_total',
      help: 'CheckPermission calls to SpiceDB by resource type, permission and result (allowed, denied, error).',
      labelNames: ['resource_type', 'permission', 'result'],
      registers: r,
    });
    this.spicedbCheckDuration = new Histogram({
      name: 'jwtexchange_spicedb_check_duration_seconds',
      help: 'Duration of one CheckPermission call to SpiceDB.',
      buckets: REMOTE_BUCKETS,
      registers: r,
    });
    this.spicedbDecisionCache = new Counter({
      name: 'jwtexchange_spicedb_decision_cache_total',
      help: 'Permission decision cache lookups by result (hit, miss).',
      labelNames: ['result'],
      registers: r,
    });
    this.stsRequests = new Counter({
      name: 'jwtexchange_sts_requests_total',
      help: 'Token-exchange server requests by grant and result (issued, or the RFC 6749 error code).',
      labelNames: ['grant', 'result'],
      registers: r,
    });
    this.stsRequestDuration = new Histogram({
      name: 'jwtexchange_sts_request_duration_seconds',
      help: 'Token-exchange server request duration by grant.',
      labelNames: ['grant'],
      buckets: REMOTE_BUCKETS,
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

  /** Counts one check; labelled children are cached so the hot path does no label hashing. */
  countCheck(direction: string, decision: CheckDecisionLabel, reason: ReasonCode): void {
    const key = `${direction}|${decision}|${reason}`;
    let child = this.checkChildren.get(key);
    if (!child) {
      child = this.checks.labels({ direction, decision, reason } as LabelValues<
        'direction' | 'decision' | 'reason'
      >);
      this.checkChildren.set(key, child);
    }
    child.inc();
  }
}
