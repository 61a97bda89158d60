import type { VerifiedIdentity } from '../../jwt/identity.js';
import type { VerifiedTokenCache } from '../../jwt/verified-cache.js';
import type { TokenVerifier } from '../../jwt/verifier.js';
import type { Decision } from '../decision.js';
import { denialOf } from '../failure.js';
import type { CheckState, Phase } from '../pipeline.js';
import { assertOneCredential, bearerCredential } from './bearer.js';

export interface CacheObserver {
  (result: 'hit' | 'miss'): void;
}

/** For explanations: who the token names and how it was verified — never the token itself. */
function explainVerified(ev: CheckState, id: VerifiedIdentity, cache: 'hit' | 'miss'): void {
  ev.explain?.add('authenticate', 'verified', {
    issuer: id.issuer,
    kid: id.keyId,
    subject: id.subject,
    kind: id.kind,
    verifiedCache: cache,
  });
}

/** A token that did not verify (JwtxError); anything else is rethrown (see failureOf). */
function refused(ev: CheckState, err: unknown): Decision {
  const d = denialOf(err);
  ev.explain?.add('authenticate', 'denied', { reason: d.reason, note: d.message });
  return d;
}

/** Identity phase: the bearer token must verify; the result is cached until the token's exp. */
export function authenticatePhase(
  verifier: TokenVerifier,
  cache: VerifiedTokenCache,
  observeCache?: CacheObserver,
): Phase {
  return {
    name: 'authenticate',
    // Verification waits on a remote peer only when the issuer's keys must be (re)loaded.
    onDeadline: {
      reason: 'jwks_unavailable',
      message: "the issuer's keys could not be loaded before Envoy's deadline",
    },
    // Synchronous on a cache hit (the warm path); a promise only when a token must be verified.
    run(ev) {
      let token: string;
      try {
        token = bearerCredential(ev.request.headers.authorization);
      } catch (err) {
        return refused(ev, err);
      }
      // A hit is the very token that passed assertOneCredential when it was verified, so the
      // scan of its characters is left to a miss.
      const cached = cache.get(token);
      if (cached) {
        observeCache?.('hit');
        ev.identity = cached;
        ev.credential = token;
        if (ev.explain) explainVerified(ev, cached, 'hit');
        return undefined;
      }
      try {
        assertOneCredential(token);
      } catch (err) {
        return refused(ev, err);
      }
      observeCache?.('miss');
      return verifier.verify(token).then(
        (identity) => {
          cache.set(token, identity);
          ev.identity = identity;
          ev.credential = token;
          if (ev.explain) explainVerified(ev, identity, 'miss');
          return undefined;
        },
        (err: unknown) => refused(ev, err),
      );
    },
  };
}
