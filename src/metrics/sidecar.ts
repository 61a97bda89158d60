import { Counter, Gauge, Histogram, type LabelValues } from 'prom-client';
import type { ReasonCode } from '../errors.js';
import { PlainHistogram } from './plain-histogram.js';
import { CHECK_BUCKETS, MetricsRegistry, REMOTE_BUCKETS } from './registry.js';
import { ScrapeCounts, type ScrapeCount } from './scrape-counts.js';

export type CheckDecisionLabel = 'allow' | 'deny' | 'dry_run';

/**
 * The sidecar's metrics. With `server.workers` > 1 the primary sums each family over its workers
 * (server/cluster-metrics.ts) unless the family names another `aggregator`.
 */
export class SidecarMetrics extends MetricsRegistry {
  readonly checks: Counter<'direction' | 'decision' | 'reason'>;
  readonly checkDuration: PlainHistogram<'direction'>;
  readonly phaseDuration: PlainHistogram<'phase'>;
  readonly checksInFlight: Gauge;
  readonly verifiedCache: Counter<'result'>;
  readonly grpcProtocolErrors: Counter<'scope' | 'error'>;
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

  /** Per-check counts, handed to their counters when scraped (scrape-counts.ts). */
  readonly verifiedCacheCounts: ScrapeCounts<'result'>;
  private readonly checkCounts: ScrapeCounts<'direction' | 'decision' | 'reason'>;
  private readonly checkChildren = new Map<string, ScrapeCount>();
  /** The label set counted last: checks in a row mostly share one (a warm run of allows). */
  private lastCount:
    { direction: string; decision: string; reason: string; child: ScrapeCount } | undefined;

  constructor(options: { defaultMetrics?: boolean; version?: string } = {}) {
    super(options);
    const r = [this.registry];
    this.checks = new Counter({
      name: 'jwtexchange_checks_total',
      help: 'ext_authz checks by direction, decision (allow, deny, dry_run) and reason code.',
      labelNames: ['direction', 'decision', 'reason'],
      registers: r,
      collect: () => this.checkCounts.flush(),
    });
    this.checkCounts = new ScrapeCounts(this.checks);
    this.checkDuration = new PlainHistogram({
      name: 'jwtexchange_check_duration_seconds',
      help: 'Time from CheckRequest received to CheckResponse sent, by direction.',
      labelNames: ['direction'],
      buckets: CHECK_BUCKETS,
      registers: r,
    });
    this.phaseDuration = new PlainHistogram({
      name: 'jwtexchange_phase_duration_seconds',
      help: 'Time spent in each pipeline phase.',
      labelNames: ['phase'],
      buckets: CHECK_BUCKETS,
      registers: r,
    });
    // Read from the runner's own count at scrape time (check-runner.ts), not moved per check.
    this.checksInFlight = new Gauge({
      name: 'jwtexchange_checks_in_flight',
      help: 'Checks being evaluated right now.',
      registers: r,
      collect: this.hooked('jwtexchange_checks_in_flight'),
    });
    this.grpcProtocolErrors = new Counter({
      name: 'jwtexchange_grpc_protocol_errors_total',
      help: 'HTTP/2 errors the ext_authz gRPC listener sent, by scope (connection: GOAWAY, stream: RST_STREAM) and error code name.',
      labelNames: ['scope', 'error'],
      registers: r,
    });
    this.verifiedCache = new Counter({
      name: 'jwtexchange_verified_token_cache_total',
      help: 'Verified-token cache lookups by result (hit, miss).',
      labelNames: ['result'],
      registers: r,
      collect: () => this.verifiedCacheCounts.flush(),
    });
    this.verifiedCacheCounts = new ScrapeCounts(this.verifiedCache);
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
  }

  /** Counts one check: a plain number per label set, handed to the counter when scraped. */
  countCheck(direction: string, decision: CheckDecisionLabel, reason: ReasonCode): void {
    const last = this.lastCount;
    if (last?.direction === direction && last.decision === decision && last.reason === reason) {
      last.child.inc();
      return;
    }
    const key = `${direction}|${decision}|${reason}`;
    let child = this.checkChildren.get(key);
    if (!child) {
      child = this.checkCounts.child({ direction, decision, reason } as LabelValues<
        'direction' | 'decision' | 'reason'
      >);
      this.checkChildren.set(key, child);
    }
    this.lastCount = { direction, decision, reason, child };
    child.inc();
  }

  /** Observes one check's duration in seconds. */
  observeCheckDuration(direction: string, seconds: number): void {
    this.checkDuration.labelled(direction).observe(seconds);
  }

  /** Observes one phase's wait in seconds (pipeline.ts times a phase only once it waits). */
  observePhaseDuration(phase: string, seconds: number): void {
    this.phaseDuration.labelled(phase).observe(seconds);
  }
}
