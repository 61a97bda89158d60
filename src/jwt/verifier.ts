import { errors as joseErrors, jwtVerify, type JWTPayload } from 'jose';
import type { Clock } from '../clock.js';
import type { IssuerConfig } from '../config/sections/inbound.js';
import { JwtxError, type ReasonCode } from '../errors.js';
import { buildIdentity, type VerifiedIdentity } from './identity.js';
import type { JwksSource } from './jwks-source.js';
import { inspectToken } from './structure.js';

export interface TrustedIssuer {
  readonly config: IssuerConfig;
  readonly keys: JwksSource;
}

export interface VerifierOptions {
  readonly issuers: readonly TrustedIssuer[];
  readonly clock: Clock;
  readonly maxTokenBytes: number;
  readonly clockToleranceSeconds: number;
}

/**
 * Verifies a bearer token against the configured issuers. The issuer is chosen by the (yet
 * unverified) `iss`, and only that issuer's keys, algorithms and audiences are then used, so one
 * issuer can never vouch for another's tokens. Throws JwtxError with a reason code.
 */
export class TokenVerifier {
  private readonly byIssuer: Map<string, TrustedIssuer>;

  constructor(private readonly opts: VerifierOptions) {
    this.byIssuer = new Map(opts.issuers.map((i) => [i.config.issuer, i]));
  }

  /**
   * `audiences` replaces the issuer's accepted audiences for this call: an exchanged token is
   * checked for the target it was asked for, even when its issuer is the caller's own (a
   * same-realm exchange at Keycloak).
   */
  async verify(
    token: string,
    options: { audiences?: readonly string[] } = {},
  ): Promise<VerifiedIdentity> {
    const { header, payload } = inspectToken(token, this.opts.maxTokenBytes);
    const trusted = typeof payload.iss === 'string' ? this.byIssuer.get(payload.iss) : undefined;
    if (!trusted) throw new JwtxError('unknown_issuer', 'the token issuer is not trusted');
    const { config } = trusted;
    if (!(config.algorithms as readonly string[]).includes(header.alg as string)) {
      throw new JwtxError(
        'algorithm_not_allowed',
        `algorithm ${String(header.alg)} is not accepted for this issuer`,
      );
    }
    let claims: JWTPayload;
    try {
      ({ payload: claims } = await jwtVerify(token, trusted.keys.getKey, {
        issuer: config.issuer,
        audience: [...(options.audiences ?? config.audiences)],
        algorithms: config.algorithms,
        clockTolerance: this.opts.clockToleranceSeconds,
        currentDate: new Date(this.opts.clock.now()),
        requiredClaims: ['exp', 'sub', ...config.requiredClaims],
        ...(config.typ !== undefined ? { typ: config.typ } : {}),
      }));
    } catch (err) {
      throw toJwtxError(err);
    }
    if (typeof claims.sub !== 'string' || claims.sub.length === 0) {
      throw new JwtxError('invalid_claims', 'sub must be a non-empty string');
    }
    this.checkIssuedAt(claims);
    return buildIdentity(
      config.issuer,
      claims,
      typeof header.kid === 'string' ? header.kid : undefined,
    );
  }

  /** jose checks iat only with maxTokenAge; a token issued in the future is not valid yet. */
  private checkIssuedAt(claims: JWTPayload): void {
    const latest = this.opts.clock.now() / 1000 + this.opts.clockToleranceSeconds;
    if (typeof claims.iat === 'number' && claims.iat > latest) {
      throw new JwtxError('token_not_yet_valid', 'the token is not valid yet (iat)');
    }
  }
}

/** Maps jose's errors to reason codes, with messages that never quote the token. */
export function toJwtxError(err: unknown): JwtxError {
  if (err instanceof JwtxError) return err;
  const fail = (code: ReasonCode, message: string) => new JwtxError(code, message, { cause: err });
  if (err instanceof joseErrors.JWTExpired) return fail('token_expired', 'the token has expired');
  if (err instanceof joseErrors.JWTClaimValidationFailed) {
    if (err.claim === 'aud')
      return fail('invalid_audience', 'the token is not meant for this audience');
    if ((err.claim === 'nbf' || err.claim === 'iat') && err.reason === 'check_failed') {
      return fail('token_not_yet_valid', `the token is not valid yet (${err.claim})`);
    }
    return fail('invalid_claims', `claim ${err.claim}: ${err.message}`);
  }
  if (err instanceof joseErrors.JWSSignatureVerificationFailed) {
    return fail('invalid_signature', 'the signature does not verify');
  }
  if (err instanceof joseErrors.JOSEAlgNotAllowed) {
    return fail('algorithm_not_allowed', 'the algorithm is not accepted');
  }
  if (
    err instanceof joseErrors.JWKSNoMatchingKey ||
    err instanceof joseErrors.JWKSMultipleMatchingKeys
  ) {
    return fail('unknown_key', 'no trusted key matches the token (kid/alg)');
  }
  if (err instanceof joseErrors.JOSENotSupported) {
    return fail('forbidden_header', `unsupported token feature: ${err.message}`);
  }
  if (err instanceof joseErrors.JWSInvalid || err instanceof joseErrors.JWTInvalid) {
    return fail('malformed_token', `malformed token: ${err.message}`);
  }
  return fail('internal', 'token verification failed unexpectedly');
}
