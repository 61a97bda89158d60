import {
  errors as joseErrors,
  jwtVerify,
  UnsecuredJWT,
  type CryptoKey,
  type JWSHeaderParameters,
  type JWTPayload,
  type JWTVerifyOptions,
} from 'jose';
import type { Clock } from '../clock.js';
import { JwtxError, type ReasonCode } from '../errors.js';
import { buildIdentity, currentActor, type VerifiedIdentity } from './identity.js';
import type { JwksSource } from './jwks-source.js';
import { hasSyncVerify, verifySignature } from './signature.js';
import { inspectToken, type TokenShape } from './structure.js';

/** The protected header of an unsecured JWT, for handing a verified payload to jose's claim checks. */
const NONE_HEADER = Buffer.from('{"alg":"none"}').toString('base64url');

const LONE_SURROGATE = /\p{Cs}/u;

/**
 * When a token names no kid (RFC 7515 makes it optional) and several keys of the issuer's set fit
 * its alg, each is tried in turn, as jose's documentation recommends — but never more than this
 * many, so a kid-less token cannot multiply the signature checks one request costs.
 */
export const MAX_KEY_CANDIDATES = 3;

/**
 * What verifying one issuer's tokens takes, compiled from config once (inbound.issuers[] of the
 * sidecar, subjectIssuers[] of token-exchange): no more of either config than this.
 */
export interface IssuerPolicy {
  readonly issuer: string;
  /** Accepted `alg` values (asymmetric only). */
  readonly algorithms: readonly string[];
  /** Accepted `aud` values, unless a call names its own. */
  readonly audiences: readonly string[];
  /** Claims that must be present besides exp and sub. */
  readonly requiredClaims: readonly string[];
  /** Required JWS `typ` header, if any. */
  readonly typ?: string | undefined;
  /** Tokens of this issuer name services (kind `service`), not users. */
  readonly serviceTokens?: boolean | undefined;
}

export interface TrustedIssuer {
  readonly policy: IssuerPolicy;
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
    this.byIssuer = new Map(opts.issuers.map((i) => [i.policy.issuer, i]));
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
    const shape = inspectToken(token, this.opts.maxTokenBytes);
    const { header, payload } = shape;
    const trusted = typeof payload.iss === 'string' ? this.byIssuer.get(payload.iss) : undefined;
    if (!trusted) throw new JwtxError('unknown_issuer', 'the token issuer is not trusted');
    const { policy: config } = trusted;
    if (!config.algorithms.includes(header.alg as string)) {
      throw new JwtxError(
        'algorithm_not_allowed',
        `algorithm ${String(header.alg)} is not accepted for this issuer`,
      );
    }
    let claims: JWTPayload;
    try {
      claims = await this.verifiedClaims(token, shape, trusted, options.audiences);
    } catch (err) {
      throw toJwtxError(err);
    }
    if (typeof claims.sub !== 'string' || claims.sub.length === 0) {
      throw new JwtxError('invalid_claims', 'sub must be a non-empty string');
    }
    // A lone UTF-16 surrogate (JSON "\ud800") has no UTF-8 form: no header could carry it.
    if (LONE_SURROGATE.test(claims.sub)) {
      throw new JwtxError('invalid_claims', 'sub is not well-formed Unicode');
    }
    if (LONE_SURROGATE.test(currentActor(claims) ?? '')) {
      throw new JwtxError('invalid_claims', 'act.sub is not well-formed Unicode');
    }
    this.checkIssuedAt(claims);
    return buildIdentity(
      config.issuer,
      claims,
      typeof header.kid === 'string' ? header.kid : undefined,
      config.serviceTokens === true,
    );
  }

  /**
   * Signature, then claims. Keys are always chosen and imported by jose (JwksSource.getKey) and
   * claims always checked by jose; for the algorithms signature.ts knows, the signature itself is
   * checked synchronously there, and jose then validates the claims of the verified payload as
   * an unsecured JWT (same checks, same errors as jwtVerify). Other algorithms: jose's jwtVerify.
   */
  private async verifiedClaims(
    token: string,
    shape: TokenShape,
    trusted: TrustedIssuer,
    audiences: readonly string[] | undefined,
  ): Promise<JWTPayload> {
    const { policy: config } = trusted;
    const options = {
      issuer: config.issuer,
      audience: [...(audiences ?? config.audiences)],
      clockTolerance: this.opts.clockToleranceSeconds,
      currentDate: new Date(this.opts.clock.now()),
      requiredClaims: ['exp', 'sub', ...config.requiredClaims],
      ...(config.typ !== undefined ? { typ: config.typ } : {}),
    };
    const alg = shape.header.alg as string;
    if (!hasSyncVerify(alg)) {
      const verifyOptions = { ...options, algorithms: [...config.algorithms] };
      try {
        return (await jwtVerify(token, trusted.keys.getKey, verifyOptions)).payload;
      } catch (err) {
        if (!(err instanceof joseErrors.JWKSMultipleMatchingKeys)) throw err;
        return verifyWithCandidates(token, await candidates(err), verifyOptions);
      }
    }
    const [h, p, s] = shape.segments;
    const header = shape.header as JWSHeaderParameters;
    const input = token.slice(0, h.length + 1 + p.length);
    let keys: CryptoKey[];
    try {
      keys = [await trusted.keys.getKey(header, { protected: h, payload: p, signature: s })];
    } catch (err) {
      if (!(err instanceof joseErrors.JWKSMultipleMatchingKeys)) throw err;
      keys = await candidates(err);
    }
    if (!keys.some((key) => verifySignature(alg, key, input, s))) {
      throw new JwtxError('invalid_signature', 'the signature does not verify');
    }
    return UnsecuredJWT.decode(`${noneHeader(header.typ)}.${p}.`, options).payload;
  }

  /** jose checks iat only with maxTokenAge; a token issued in the future is not valid yet. */
  private checkIssuedAt(claims: JWTPayload): void {
    const latest = this.opts.clock.now() / 1000 + this.opts.clockToleranceSeconds;
    if (typeof claims.iat === 'number' && claims.iat > latest) {
      throw new JwtxError('token_not_yet_valid', 'the token is not valid yet (iat)');
    }
  }
}

/**
 * The keys jose found fitting a token (no kid, or a kid shared by several keys), at most
 * MAX_KEY_CANDIDATES; a larger set is refused before any signature check.
 */
async function candidates(
  several: InstanceType<typeof joseErrors.JWKSMultipleMatchingKeys>,
): Promise<CryptoKey[]> {
  const keys: CryptoKey[] = [];
  for await (const key of several as AsyncIterable<CryptoKey>) {
    if (keys.length === MAX_KEY_CANDIDATES) {
      throw new JwtxError(
        'unknown_key',
        `the token names no kid and more than ${MAX_KEY_CANDIDATES} keys of the issuer fit it`,
      );
    }
    keys.push(key);
  }
  return keys;
}

/** jose's full verification with each candidate key in turn (algorithms without a sync path). */
async function verifyWithCandidates(
  token: string,
  keys: readonly CryptoKey[],
  options: JWTVerifyOptions,
): Promise<JWTPayload> {
  for (const key of keys) {
    try {
      return (await jwtVerify(token, key, options)).payload;
    } catch (err) {
      if (!(err instanceof joseErrors.JWSSignatureVerificationFailed)) throw err;
    }
  }
  throw new JwtxError(
    'invalid_signature',
    'the signature verifies with none of the candidate keys',
  );
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

/**
 * Headers built for the `typ` values seen, so a new token does not encode one again (~1% of its
 * CPU). Reached only after the signature verified, so from a trusted issuer; bounded all the same.
 */
const noneHeaders = new Map<string, string>();
const MAX_NONE_HEADERS = 16;

/** The unsecured header carries the token's own `typ`, so jose's typ check sees the real one. */
function noneHeader(typ: unknown): string {
  if (typ === undefined) return NONE_HEADER;
  const known = typeof typ === 'string' ? noneHeaders.get(typ) : undefined;
  if (known !== undefined) return known;
  const header = Buffer.from(JSON.stringify({ alg: 'none', typ })).toString('base64url');
  if (typeof typ === 'string' && noneHeaders.size < MAX_NONE_HEADERS) noneHeaders.set(typ, header);
  return header;
}
