import { sagaIdProblem, SAGA_ID_TOKEN_TYPE } from '../sagas/saga-id.js';
import { resolveAudience } from './audience-policy.js';
import { checkActorToken, issuedType, type Caller, type GrantResult } from './grants.js';
import { OAuthError } from './oauth-error.js';
import type { SagaLookup } from './saga-lookup.js';
import type { SubjectTokens } from './subject-tokens.js';
import type { TokenRequest } from './token-request.js';

/**
 * RFC 8693 delegation for a saga (docs/delegation.md): the subject is a saga id
 * (subject_token_type urn:jwtexchange:params:oauth:token-type:saga-id), the actor the mTLS client.
 * SpiceDB decides: the caller must execute the saga, which must have exactly one initiator and
 * not have expired. The token acts for the initiator (sub), names the service as the current
 * actor (act.sub, RFC 8693 §4.1) and the saga (claim `saga`), and never outlives the saga.
 */
export async function sagaDelegationGrant(
  request: TokenRequest,
  caller: Caller,
  deps: { readonly sagas?: SagaLookup | undefined; readonly subjects: SubjectTokens },
): Promise<GrantResult> {
  if (request.subjectTokenType !== SAGA_ID_TOKEN_TYPE) {
    throw new OAuthError('invalid_request', `subject_token_type must be ${SAGA_ID_TOKEN_TYPE}`);
  }
  if (!deps.sagas) {
    throw new OAuthError(
      'invalid_request',
      'saga delegation is not enabled on this token-exchange (no sagas section)',
    );
  }
  if (caller.policy?.delegate !== true) {
    throw new OAuthError(
      'unauthorized_client',
      `service ${JSON.stringify(caller.service)} may not act for saga initiators (needs delegate: true)`,
    );
  }
  const issuedTokenType = issuedType(request.requestedTokenType);
  const audience = resolveAudience(request, caller.service, caller.policy);
  const sagaId = request.subjectToken;
  const problem = sagaIdProblem(sagaId);
  if (problem) throw new OAuthError('invalid_request', `subject_token (saga id) ${problem}`);
  await checkActorToken(request, caller, deps.subjects);
  const delegation = await deps.sagas.resolve(sagaId!, caller.service);
  return {
    issuedTokenType,
    claims: {
      subject: delegation.initiator,
      clientId: caller.service,
      audience,
      act: { sub: caller.service },
      saga: sagaId!,
      notAfter: Math.floor(delegation.expiresAtMs / 1000),
    },
  };
}
