import type { JWTPayload } from 'jose';
import { isSagaId } from '../sagas/saga-id.js';
import { encodeHeaderValue } from './header-value.js';

/** The verified caller: what the sidecar hands the app as the "jwtauth context". */
export interface VerifiedIdentity {
  readonly issuer: string;
  readonly subject: string;
  /**
   * 'service' when the issuer mints service tokens (token-exchange, `serviceTokens: true`) and
   * issued this one to a service for itself (sub = client_id, no act); otherwise 'user'.
   */
  readonly kind: 'user' | 'service';
  /**
   * The current actor (RFC 8693 §4.1: the outermost act.sub) of a delegated token: the service
   * acting for the subject. Earlier actors nested deeper are informational only.
   */
  readonly actor?: string;
  /** The saga a saga-delegated token acts in (claim `saga`, docs/delegation.md). */
  readonly saga?: string;
  readonly claims: JWTPayload;
  /** exp in epoch milliseconds. */
  readonly expiresAtMs: number;
  /** The JWS `kid` the token was verified with (for explanations; absent when the token has none). */
  readonly keyId?: string | undefined;
  /** x-jwtauth-* headers, computed once per token and reused for every request that carries it. */
  readonly headers: readonly (readonly [string, string])[];
}

export const IDENTITY_HEADER_PREFIX = 'x-jwtauth-';

/**
 * Only the issuer that mints service tokens may vouch for a service: any other issuer (a user
 * IdP) could otherwise issue `sub = client_id = "gateway"` and be taken for the gateway.
 */
function tokenKind(claims: JWTPayload, mintsServiceTokens: boolean): 'user' | 'service' {
  return mintsServiceTokens &&
    claims.client_id !== undefined &&
    claims.client_id === claims.sub &&
    claims.act === undefined
    ? 'service'
    : 'user';
}

/** act.sub when act is an object with a non-empty string sub; anything else names no actor. */
export function currentActor(claims: JWTPayload): string | undefined {
  const act = claims.act as unknown;
  if (act === null || typeof act !== 'object' || Array.isArray(act)) return undefined;
  const sub = (act as { sub?: unknown }).sub;
  return typeof sub === 'string' && sub.length > 0 ? sub : undefined;
}

/**
 * The identity and its headers; subject, issuer and actor are header-encoded (header-value.ts).
 * The verifier has refused subjects and actors that are not well-formed Unicode.
 */
export function buildIdentity(
  issuer: string,
  claims: JWTPayload,
  keyId?: string,
  mintsServiceTokens = false,
): VerifiedIdentity {
  const subject = claims.sub as string;
  const kind = tokenKind(claims, mintsServiceTokens);
  const actor = currentActor(claims);
  const saga = typeof claims.saga === 'string' && isSagaId(claims.saga) ? claims.saga : undefined;
  return {
    issuer,
    subject,
    kind,
    ...(actor !== undefined ? { actor } : {}),
    ...(saga !== undefined ? { saga } : {}),
    claims,
    expiresAtMs: (claims.exp as number) * 1000,
    keyId,
    // Frozen: every check that carries the token shares them with the cached identity.
    headers: Object.freeze(
      [
        [`${IDENTITY_HEADER_PREFIX}subject`, encodeHeaderValue(subject)] as const,
        [`${IDENTITY_HEADER_PREFIX}issuer`, encodeHeaderValue(issuer)] as const,
        [`${IDENTITY_HEADER_PREFIX}kind`, kind] as const,
        ...(actor !== undefined
          ? [[`${IDENTITY_HEADER_PREFIX}actor`, encodeHeaderValue(actor)] as const]
          : []),
        ...(saga !== undefined ? [[`${IDENTITY_HEADER_PREFIX}saga`, saga] as const] : []),
        [
          `${IDENTITY_HEADER_PREFIX}claims`,
          Buffer.from(JSON.stringify(claims)).toString('base64url'),
        ] as const,
      ].map((pair) => Object.freeze(pair)),
    ),
  };
}
