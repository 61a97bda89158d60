import { LRUCache } from 'lru-cache';
import type { Clock } from '../clock.js';
import type { VerifiedIdentity } from './identity.js';

/**
 * Tokens that already verified, so the hot path does not verify the same token twice. Bounded;
 * an entry never outlives the token's exp (checked on read against the injected clock, too).
 */
export class VerifiedTokenCache {
  private readonly lru: LRUCache<string, VerifiedIdentity> | undefined;

  constructor(
    max: number,
    private readonly clock: Clock,
  ) {
    this.lru =
      max > 0
        ? new LRUCache<string, VerifiedIdentity>({
            max,
            ttlAutopurge: false,
            perf: { now: () => clock.now() },
          })
        : undefined;
  }

  get(token: string): VerifiedIdentity | undefined {
    const hit = this.lru?.get(token);
    if (hit && hit.expiresAtMs <= this.clock.now()) {
      this.lru?.delete(token);
      return undefined;
    }
    return hit;
  }

  set(token: string, identity: VerifiedIdentity): void {
    const ttl = identity.expiresAtMs - this.clock.now();
    if (ttl > 0) this.lru?.set(token, identity, { ttl });
  }

  get size(): number {
    return this.lru?.size ?? 0;
  }
}
