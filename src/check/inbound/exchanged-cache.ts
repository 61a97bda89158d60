import { LRUCache } from 'lru-cache';
import type { Clock } from '../../clock.js';
import type { VerifiedIdentity } from '../../jwt/identity.js';
import { identityBytes } from '../../jwt/verified-cache.js';

export interface Exchanged {
  readonly token: string;
  readonly identity: VerifiedIdentity;
}

/**
 * Internal tokens per caller token, bounded in entries and bytes; an entry never outlives either
 * token (injected clock).
 */
export class ExchangedTokenCache {
  private readonly lru: LRUCache<string, Exchanged & { until: number }>;

  constructor(
    max: number,
    private readonly clock: Clock,
    /** Stop using an internal token this long before it expires, so the app never gets a dying one. */
    private readonly marginMs = 10_000,
    maxBytes = 16 * 1024 ** 2,
  ) {
    this.lru = new LRUCache({
      max: Math.max(1, max),
      maxSize: maxBytes,
      // The caller's token, the internal token and the internal token's identity.
      sizeCalculation: (v, subjectToken) =>
        subjectToken.length + identityBytes(v.token, v.identity),
      perf: { now: () => clock.now() },
    });
  }

  get(subjectToken: string): Exchanged | undefined {
    const hit = this.lru.get(subjectToken);
    if (hit && hit.until <= this.clock.now()) {
      this.lru.delete(subjectToken);
      return undefined;
    }
    return hit;
  }

  set(subjectToken: string, value: Exchanged, expiresAtMs: number): void {
    const until = expiresAtMs - this.marginMs;
    const ttl = until - this.clock.now();
    if (ttl > 0) this.lru.set(subjectToken, { ...value, until }, { ttl });
  }
}
