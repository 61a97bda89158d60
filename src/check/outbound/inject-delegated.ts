import { sagaIdProblem } from '../../sagas/saga-id.js';
import { isRefusal, type DelegatedTokenCache } from '../../tokens/delegated-token-cache.js';
import { TokenRequestError } from '../../tokens/token-errors.js';
import { allow, deny, type Decision } from '../decision.js';
import type { Phase, PhaseResult } from '../pipeline.js';
import { EXT, type RequestContext } from '../request-context.js';
import { selectTarget, type AudienceAllowlist } from './inject-token.js';

/** The one kind of delegation routes may ask for today. */
export const SAGA_DELEGATION = 'saga';

/** A route's delegation tag, checked; a Decision when the route cannot be served as tagged. */
function delegationRoute(ctx: RequestContext): Decision | undefined {
  const kind = ctx.extensions[EXT.delegation];
  if (kind !== SAGA_DELEGATION) {
    return deny('bad_request', `${EXT.delegation} must be "${SAGA_DELEGATION}"`);
  }
  if (ctx.extensions[EXT.audience] === undefined) {
    return deny('bad_request', `${EXT.delegation} needs ${EXT.audience} (whom the token is for)`);
  }
  if (ctx.extensions[EXT.scope] !== undefined) {
    return deny('bad_request', `${EXT.scope} cannot be combined with ${EXT.delegation}`);
  }
  return undefined;
}

function failure(err: unknown): Decision {
  if (err instanceof TokenRequestError && isRefusal(err)) {
    return deny('delegation_refused', err.message);
  }
  if (err instanceof TokenRequestError) {
    return deny('delegation_unavailable', `no delegated token: ${err.message}`);
  }
  throw err;
}

/**
 * Routes tagged `jwtexchange.delegation: saga` (docs/delegation.md): the request's saga id (from
 * sagaIdHeader, strictly validated) buys a token that acts for the saga's initiator, with this
 * service as the actor; it overwrites `authorization`. Other routes go on to the next phase.
 */
export function injectDelegatedTokenPhase(
  allowlist: AudienceAllowlist,
  cache: DelegatedTokenCache,
  sagaIdHeader: string,
): Phase {
  const withToken = (token: string): PhaseResult =>
    allow('delegated', [['authorization', `Bearer ${token}`]]);
  return {
    name: 'inject_delegated_token',
    run(ev) {
      if (ev.request.extensions[EXT.delegation] === undefined) return undefined;
      const refused = delegationRoute(ev.request);
      if (refused) return refused;
      const target = selectTarget(ev.request, allowlist);
      if ('allow' in target) return target;
      const sagaId = ev.request.headers[sagaIdHeader];
      const problem = sagaIdProblem(sagaId);
      if (problem) return deny('invalid_saga_id', `${sagaIdHeader} ${problem}`);
      let token: string | Promise<string>;
      try {
        token = cache.get({ audience: target.audience, sagaId: sagaId! });
      } catch (err) {
        return failure(err);
      }
      return typeof token === 'string' ? withToken(token) : token.then(withToken, failure);
    },
  };
}
