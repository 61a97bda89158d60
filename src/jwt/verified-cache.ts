import { LRUCache } from 'lru-cache';
import type { Clock } from '../clock.js';
import type { VerifiedIdentity } from './identity.js';

/** Per-entry overhead besides the strings: the entry, identity and claims objects, LRU bookkeeping. */
const ENTRY_OVERHEAD = 768;

/**
 * Estimated bytes an entry holds: the token (and its key) and the strings of the identity. The claims
 * object is counted by its header value (base64url of its JSON, a little larger than the JSON).
 */
export function identityBytes(token: string, identity: VerifiedIdentity): number {
  let n = ENTRY_OVERHEAD + token.length;
  for (const [name, value] of identity.headers) n += name.length + value.length;
  return n;
}

/**
 * How much of a token keys its entry: its last characters, the end of the signature. A lookup
 * hashes the key, and hashing a whole token (hundreds of characters, a new string per request)
 * was the largest single cost of a warm check; 32 base64url characters are 192 bits of the
 * signature. A hit still compares the whole token, so a different token that ends the same way is
 * a miss, never someone else's identity; at worst, once verified, it takes that entry's place.
 */
export const KEY_CHARS = 32;

function keyOf(token: string): string {
  return token.length <= KEY_CHARS ? token : token.slice(-KEY_CHARS);
}

interface Entry {
  readonly token: string;
  readonly identity: VerifiedIdentity;
}

/**
 * Tokens that already verified, so the hot path does not verify the same token twice. Bounded in
 * entries and in bytes (identityBytes), so large tokens cannot grow it past its memory budget; an
 * entry is never used past the token's exp: get() checks it against the injected clock and drops
 * the entry. (No TTL in the LRU as well: that would read the clock a second time per hit.)
 */
export class VerifiedTokenCache {
  private readonly lru: LRUCache<string, Entry> | undefined;

  constructor(
    max: number,
    private readonly clock: Clock,
    maxBytes = 16 * 1024 ** 2,
  ) {
    this.lru =
      max > 0
        ? new LRUCache<string, Entry>({
            max,
            maxSize: maxBytes,
            sizeCalculation: (entry) => identityBytes(entry.token, entry.identity),
          })
        : undefined;
  }

  get(token: string): VerifiedIdentity | undefined {
    const key = keyOf(token);
    const hit = this.lru?.get(key);
    if (hit === undefined || hit.token !== token) return undefined;
    if (hit.identity.expiresAtMs <= this.clock.now()) {
      this.lru?.delete(key);
      return undefined;
    }
    return hit.identity;
  }

  set(token: string, identity: VerifiedIdentity): void {
    if (identity.expiresAtMs > this.clock.now()) this.lru?.set(keyOf(token), { token, identity });
  }

  get size(): number {
    return this.lru?.size ?? 0;
  }

  /** Estimated bytes held (at most the maxBytes given). */
  get bytes(): number {
    return this.lru?.calculatedSize ?? 0;
  }
}
