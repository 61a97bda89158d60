import { JwtxError } from '../../errors.js';
import type { TokenVerifier } from '../../jwt/verifier.js';
import { failureOf } from '../failure.js';
import { deny } from '../decision.js';
import type { Phase } from '../pipeline.js';
import type { Exchanged, ExchangedTokenCache, ExchangeSource } from './exchanged-cache.js';

/** RFC 8693 exchange of a caller's token for an internal one (see src/tokens for the client). */
export interface SubjectTokenExchanger<T = string> {
  /** Resolves with the issued token; throws what the token client throws (see failureOf). */
  exchange(subjectToken: string, target: T): Promise<string>;
}

export interface ExchangePhaseOptions<T = string> {
  /** issuer → what to exchange its tokens for (the target of the internal token). */
  readonly exchangeFor: ReadonlyMap<string, T>;
  readonly exchanger: SubjectTokenExchanger<T>;
  /** Verifies the internal token (token-exchange must be a configured issuer). */
  readonly verifier: TokenVerifier;
  readonly cache: ExchangedTokenCache;
  /**
   * The aud the exchanged token must carry for a target (its audience or resource), also shown
   * by explain; absent: the exchanged token's issuer's audiences.
   */
  readonly audienceOf?: (target: T) => string;
}

/**
 * Exchange phase (pipeline mode A): a verified auth.service token is swapped for an internal JWT
 * before the app sees the request. The app then receives `authorization: Bearer <internal>` and
 * the internal token's identity. Results are cached per caller token and shared while in flight
 * (exchanged-cache.ts).
 */
export function exchangePhase<T>(opts: ExchangePhaseOptions<T>): Phase {
  const exchangeAndVerify = async (subjectToken: string, target: T): Promise<Exchanged> => {
    const token = await opts.exchanger.exchange(subjectToken, target);
    const audiences = opts.audienceOf ? [opts.audienceOf(target)] : undefined;
    const identity = await opts.verifier.verify(token, { audiences }).catch((err: unknown) => {
      // The token-exchange answer itself did not verify: a misconfiguration, never the caller's fault.
      throw new JwtxError(
        'token_exchange_unavailable',
        `exchanged token did not verify: ${(err as Error).message}`,
      );
    });
    return { token, identity };
  };

  return {
    name: 'exchange',
    onDeadline: {
      reason: 'token_exchange_unavailable',
      message: "token-exchange did not answer before Envoy's deadline",
    },
    async run(ev) {
      const caller = ev.identity;
      const subjectToken = ev.credential;
      const target = caller && opts.exchangeFor.get(caller.issuer);
      if (!caller || !subjectToken || target === undefined) {
        ev.explain?.add('exchange', 'not_needed', { issuer: caller?.issuer });
        return undefined;
      }
      const audience = opts.audienceOf ? opts.audienceOf(target) : String(target);
      let result: Exchanged;
      let source: ExchangeSource;
      try {
        ({ value: result, source } = await opts.cache.get(subjectToken, caller.expiresAtMs, () =>
          exchangeAndVerify(subjectToken, target),
        ));
      } catch (err) {
        const f = failureOf(err, 'token-exchange')!;
        ev.explain?.add('exchange', 'denied', { audience, reason: f.reason, note: f.message });
        return deny(f.reason, f.message);
      }
      ev.explain?.add('exchange', 'exchanged', {
        audience,
        source,
        issuer: result.identity.issuer,
        subject: result.identity.subject,
      });
      ev.identity = result.identity;
      ev.setHeaders.push(['authorization', `Bearer ${result.token}`]);
      return undefined;
    },
  };
}
