import type { JWTPayload } from 'jose';
import { SAGA_ID_TOKEN_TYPE } from '../sagas/saga-id.js';
import { resolveAudience } from './audience-policy.js';
import type { ServicePolicy } from './config.js';
import { OAuthError } from './oauth-error.js';
import type { SubjectTokens } from './subject-tokens.js';
import type { ActClaim, TokenClaims } from './token-issuer.js';
import {
  GRANT_CLIENT_CREDENTIALS,
  GRANT_TOKEN_EXCHANGE,
  TOKEN_TYPE_ACCESS_TOKEN,
  TOKEN_TYPE_JWT,
  type TokenRequest,
} from './token-request.js';

/** The authenticated, allowlisted caller and its policy. */
export interface Caller {
  readonly service: string;
  readonly policy: ServicePolicy | undefined;
}

export interface GrantResult {
  readonly claims: TokenClaims;
  /** RFC 8693 issued_token_type; absent for client_credentials (plain RFC 6749). */
  readonly issuedTokenType?: string;
}

/** Metric/log label of a grant: a closed set, never the raw grant_type. */
export type GrantLabel =
  'client_credentials' | 'token_exchange' | 'saga_delegation' | 'unsupported' | 'none';

export function grantLabel(grantType: string | undefined, subjectTokenType?: string): GrantLabel {
  if (grantType === undefined) return 'none';
  if (grantType === GRANT_CLIENT_CREDENTIALS) return 'client_credentials';
  if (grantType === GRANT_TOKEN_EXCHANGE)
    return subjectTokenType === SAGA_ID_TOKEN_TYPE ? 'saga_delegation' : 'token_exchange';
  return 'unsupported';
}

/** client_credentials: a token for the calling service itself (sub = client_id = service). */
export function clientCredentialsGrant(request: TokenRequest, caller: Caller): GrantResult {
  const audience = resolveAudience(request, caller.service, caller.policy);
  return { claims: { subject: caller.service, clientId: caller.service, audience } };
}

/**
 * RFC 8693 token exchange. The user of the subject token stays the subject and the calling
 * service becomes client_id. Services allowed to delegate get act: { sub: service } with any
 * earlier actor nested inside; the others get a plain user token. The token never outlives
 * the subject token.
 */
export async function tokenExchangeGrant(
  request: TokenRequest,
  caller: Caller,
  subjects: SubjectTokens,
): Promise<GrantResult> {
  if (request.subjectToken === undefined) {
    throw new OAuthError('invalid_request', 'subject_token is required for token exchange');
  }
  const issuedTokenType = issuedType(request.requestedTokenType);
  const audience = resolveAudience(request, caller.service, caller.policy);
  const delegate = caller.policy?.delegate === true;
  await checkActorToken(request, caller, subjects);
  const subject = await subjects.verifySubject(
    request.subjectToken,
    request.subjectTokenType,
    caller.service,
  );
  const previous = actOf(subject);
  if (delegate) checkMayAct(subject, caller.service);
  const act: ActClaim | undefined = delegate
    ? { sub: caller.service, ...(previous ? { act: previous } : {}) }
    : previous;
  return {
    issuedTokenType,
    claims: {
      subject: subject.sub!,
      clientId: caller.service,
      audience,
      ...(act ? { act } : {}),
      notAfter: subject.exp,
    },
  };
}

/**
 * The optional RFC 8693 actor_token: only a service allowed to delegate may send one, and it must
 * be its own service token from this server (the actor is always the mTLS client).
 */
export async function checkActorToken(
  request: TokenRequest,
  caller: Caller,
  subjects: SubjectTokens,
): Promise<void> {
  if (request.actorToken !== undefined) {
    if (caller.policy?.delegate !== true) {
      throw new OAuthError(
        'unauthorized_client',
        `service ${JSON.stringify(caller.service)} is not allowed to delegate (actor_token)`,
      );
    }
    await subjects.verifyActor(request.actorToken, request.actorTokenType, caller.service);
  } else if (request.actorTokenType !== undefined) {
    throw new OAuthError('invalid_request', 'actor_token_type was sent without actor_token');
  }
}

export function issuedType(requested: string | undefined): string {
  if (requested === undefined || requested === TOKEN_TYPE_ACCESS_TOKEN)
    return TOKEN_TYPE_ACCESS_TOKEN;
  if (requested === TOKEN_TYPE_JWT) return TOKEN_TYPE_JWT;
  throw new OAuthError(
    'invalid_request',
    `requested_token_type must be ${TOKEN_TYPE_ACCESS_TOKEN} or ${TOKEN_TYPE_JWT}`,
  );
}

/** A well-formed act claim of the subject token, kept as the chain of earlier actors. */
function actOf(claims: JWTPayload): ActClaim | undefined {
  const act = claims.act as unknown;
  if (act === undefined) return undefined;
  if (!isAct(act, 0))
    throw new OAuthError('invalid_request', 'subject_token has a malformed act claim');
  return act;
}

function isAct(value: unknown, depth: number): value is ActClaim {
  if (depth > 8 || value === null || typeof value !== 'object' || Array.isArray(value))
    return false;
  const v = value as Record<string, unknown>;
  return typeof v.sub === 'string' && (v.act === undefined || isAct(v.act, depth + 1));
}

/** RFC 8693 §4.4: a subject token that names who may act for it limits delegation to them. */
function checkMayAct(claims: JWTPayload, service: string): void {
  const mayAct = claims.may_act as { sub?: unknown } | undefined;
  if (mayAct === undefined) return;
  if (typeof mayAct !== 'object' || mayAct === null || mayAct.sub !== service) {
    throw new OAuthError(
      'invalid_request',
      `subject_token's may_act does not allow ${JSON.stringify(service)} to act for the subject`,
    );
  }
}
