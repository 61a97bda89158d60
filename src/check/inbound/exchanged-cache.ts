import { LRUCache } from 'lru-cache';
import type { Clock } from '../../clock.js';
import type { VerifiedIdentity } from '../../jwt/identity.js';
import { identityBytes } from '../../jwt/verified-cache.js';

export interface Exchanged {
  readonly token: string;
  readonly identity: VerifiedIdentity;
}

/** Where an exchanged token came from: the cache, a call in flight for the same caller token, or a new call. */
export type ExchangeSource = 'cache' | 'shared' | 'token-exchange';

interface Fetch {
  /** Exchanges and verifies the caller's token; rejects with the failure (never cached). */
  readonly load: () => Promise<Exchanged>;
  /** The caller token's exp: an entry never outlives it. */
  readonly callerExpiresAtMs: number;
}

const SOURCE: Readonly<Record<string, ExchangeSource>> = { hit: 'cache', inflight: 'shared' };

/**
 * Internal tokens per caller token, bounded in entries and bytes; an entry never outlives either
 * token minus a margin (lru-cache's ttl on the injected clock), and concurrent requests with the
 * same caller token share one exchange (lru-cache's fetch). Failures are never cached.
 */
export class ExchangedTokenCache {
  private readonly lru: LRUCache<string, Exchanged, Fetch>;

  constructor(
    max: number,
    clock: Clock,
    /** Stop using an internal token this long before it expires, so the app never gets a dying one. */
    marginMs = 10_000,
    maxBytes = 16 * 1024 ** 2,
  ) {
    this.lru = new LRUCache<string, Exchanged, Fetch>({
      max: Math.max(1, max),
      maxSize: maxBytes,
      // The caller's token, the internal token and the internal token's identity.
      sizeCalculation: (v, subjectToken) =>
        subjectToken.length + identityBytes(v.token, v.identity),
      perf: { now: () => clock.now() },
      // Read the injected clock on every lookup (no cached "now"): expiry is exact in tests.
      ttlResolution: 0,
      fetchMethod: async (_subjectToken, _stale, { options, context }) => {
        const value = await context.load();
        const until = Math.min(context.callerExpiresAtMs, value.identity.expiresAtMs) - marginMs;
        // A token that is already inside its margin is used once, then expires at once.
        options.ttl = Math.max(1, until - clock.now());
        return value;
      },
    });
  }

  /** The internal token for a caller token: cached, shared with a call in flight, or exchanged now. */
  async get(
    subjectToken: string,
    callerExpiresAtMs: number,
    load: () => Promise<Exchanged>,
  ): Promise<{ value: Exchanged; source: ExchangeSource }> {
    const status: LRUCache.Status<string, Exchanged, Fetch> = {};
    const value = await this.lru.fetch(subjectToken, {
      context: { load, callerExpiresAtMs },
      status,
    });
    return { value: value!, source: SOURCE[status.fetch ?? ''] ?? 'token-exchange' };
  }
}
