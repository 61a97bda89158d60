import { JwtxError } from '../../errors.js';
import type { VerifiedTokenCache } from '../../jwt/verified-cache.js';
import type { TokenVerifier } from '../../jwt/verifier.js';
import { deny } from '../decision.js';
import type { Phase } from '../pipeline.js';
import { bearerToken } from './bearer.js';

export interface CacheObserver {
  (result: 'hit' | 'miss'): void;
}

/** Identity phase: the bearer token must verify; the result is cached until the token's exp. */
export function authenticatePhase(
  verifier: TokenVerifier,
  cache: VerifiedTokenCache,
  observeCache?: CacheObserver,
): Phase {
  return {
    name: 'authenticate',
    // Synchronous on a cache hit (the warm path); a promise only when a token must be verified.
    run(ev) {
      let token: string;
      try {
        token = bearerToken(ev.request.headers.authorization);
      } catch (err) {
        const e = err as JwtxError;
        return deny(e.code, e.message);
      }
      const cached = cache.get(token);
      observeCache?.(cached ? 'hit' : 'miss');
      if (cached) {
        ev.identity = cached;
        ev.credential = token;
        return undefined;
      }
      return verifier.verify(token).then(
        (identity) => {
          cache.set(token, identity);
          ev.identity = identity;
          ev.credential = token;
          return undefined;
        },
        (err: unknown) => {
          if (err instanceof JwtxError) return deny(err.code, err.message);
          throw err;
        },
      );
    },
  };
}
