import { LRUCache } from 'lru-cache';
import type { Clock } from '../clock.js';
import type { VerifiedIdentity } from './identity.js';

/** Per-entry overhead besides the strings: the identity and claims objects, LRU bookkeeping. */
const ENTRY_OVERHEAD = 768;

/**
 * Estimated bytes an entry holds: the token (the key) and the strings of the identity. The claims
 * object is counted by its header value (base64url of its JSON, a little larger than the JSON).
 */
export function identityBytes(token: string, identity: VerifiedIdentity): number {
  let n = ENTRY_OVERHEAD + token.length;
  for (const [name, value] of identity.headers) n += name.length + value.length;
  return n;
}

/**
 * Tokens that already verified, so the hot path does not verify the same token twice. Bounded in
 * entries and in bytes (identityBytes), so large tokens cannot grow it past its memory budget; an
 * entry never outlives the token's exp (checked on read against the injected clock, too).
 */
export class VerifiedTokenCache {
  private readonly lru: LRUCache<string, VerifiedIdentity> | undefined;

  constructor(
    max: number,
    private readonly clock: Clock,
    maxBytes = 16 * 1024 ** 2,
  ) {
    this.lru =
      max > 0
        ? new LRUCache<string, VerifiedIdentity>({
            max,
            maxSize: maxBytes,
            sizeCalculation: (identity, token) => identityBytes(token, identity),
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

  /** Estimated bytes held (at most the maxBytes given). */
  get bytes(): number {
    return this.lru?.calculatedSize ?? 0;
  }
}
