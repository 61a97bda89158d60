import { LRUCache } from 'lru-cache';
import type { Clock } from '../clock.js';
import type { SidecarMetrics } from '../metrics/sidecar.js';
import type { AnswerOrigin, CheckSpec, PermissionChecker } from './permission-checker.js';

/**
 * Allow/deny per (subject, resource, permission), kept briefly (ttlMs, at most maxEntries).
 * Encoded ids never contain `:`, `#` or `@`, so the relationship-style key is unambiguous.
 */
export function decisionKey(s: CheckSpec): string {
  return `${s.resourceType}:${s.resourceId}#${s.permission}@${s.subjectType}:${s.subjectId}`;
}

/**
 * lru-cache holds the decisions: bounded in entries and bytes (the key and a small entry each),
 * each kept `ttlMs` on the injected clock (lru-cache's `perf`), gone once older than that.
 */
export class DecisionCache {
  private readonly lru: LRUCache<string, boolean> | undefined;

  constructor(maxEntries: number, ttlMs: number, clock: Clock, maxBytes = 4 * 1024 ** 2) {
    this.lru =
      maxEntries > 0 && ttlMs > 0
        ? new LRUCache<string, boolean>({
            max: maxEntries,
            maxSize: maxBytes,
            sizeCalculation: (_v, key) => key.length + 96,
            ttl: ttlMs,
            // Exact expiry on the injected clock, checked on read; no timers.
            ttlResolution: 0,
            ttlAutopurge: false,
            perf: { now: () => clock.now() },
          })
        : undefined;
  }

  get enabled(): boolean {
    return this.lru !== undefined;
  }

  get(key: string): boolean | undefined {
    return this.lru?.get(key);
  }

  set(key: string, allowed: boolean): void {
    this.lru?.set(key, allowed);
  }
}

/**
 * Serves decisions from the cache and shares one SpiceDB call among identical concurrent checks.
 * Failures are never cached. A request with a ZedToken is never answered from the cache (it asked
 * for data at least that fresh), but its answer is stored.
 */
export class CachedPermissionChecker implements PermissionChecker {
  private readonly inflight = new Map<string, Promise<boolean>>();

  constructor(
    private readonly inner: PermissionChecker,
    private readonly cache: DecisionCache,
    private readonly metrics?: SidecarMetrics,
  ) {}

  /** A decision-cache hit, counted and returned synchronously; undefined otherwise (uncounted). */
  cached(spec: CheckSpec, origin?: (o: AnswerOrigin) => void): boolean | undefined {
    if (spec.zedToken !== undefined || !this.cache.enabled) return undefined;
    const hit = this.cache.get(decisionKey(spec));
    if (hit === undefined) return undefined;
    this.metrics?.spicedbDecisionCache.inc({ result: 'hit' });
    origin?.({ decisionCache: 'hit', shared: false });
    return hit;
  }

  async check(spec: CheckSpec, origin?: (o: AnswerOrigin) => void): Promise<boolean> {
    const key = decisionKey(spec);
    if (spec.zedToken === undefined) {
      const cached = this.cache.get(key);
      if (this.cache.enabled)
        this.metrics?.spicedbDecisionCache.inc({ result: cached === undefined ? 'miss' : 'hit' });
      if (cached !== undefined) {
        origin?.({ decisionCache: 'hit', shared: false });
        return cached;
      }
    } else if (this.cache.enabled) {
      this.metrics?.spicedbDecisionCache.inc({ result: 'miss' });
    }
    const flightKey = spec.zedToken === undefined ? key : `${key}|${spec.zedToken}`;
    let pending = this.inflight.get(flightKey);
    origin?.({
      decisionCache: !this.cache.enabled
        ? 'off'
        : spec.zedToken === undefined
          ? 'miss'
          : 'bypassed',
      shared: pending !== undefined,
    });
    if (!pending) {
      pending = this.inner.check(spec).finally(() => this.inflight.delete(flightKey));
      this.inflight.set(flightKey, pending);
    }
    const allowed = await pending;
    this.cache.set(key, allowed);
    return allowed;
  }
}
