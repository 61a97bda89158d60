import { sagaIdProblem } from '../../sagas/saga-id.js';
import type { DelegatedTokenCache } from '../../tokens/delegated-token-cache.js';
import { allow, deny, type Decision } from '../decision.js';
import type { Explanation } from '../explain.js';
import { denialOf } from '../failure.js';
import type { Phase, PhaseResult } from '../pipeline.js';
import { CONTEXT_EXTENSIONS, type RequestContext } from '../request-context.js';
import { selectTarget, type AudienceAllowlist } from './inject-token.js';

/** The one kind of delegation routes may ask for today. */
const SAGA_DELEGATION = 'saga';

/** A route's delegation tag, checked; a Decision when the route cannot be served as tagged. */
function delegationRoute(ctx: RequestContext): Decision | undefined {
  const kind = ctx.extensions[CONTEXT_EXTENSIONS.delegation];
  if (kind !== SAGA_DELEGATION) {
    return deny('bad_request', `${CONTEXT_EXTENSIONS.delegation} must be "${SAGA_DELEGATION}"`);
  }
  if (ctx.extensions[CONTEXT_EXTENSIONS.audience] === undefined) {
    return deny(
      'bad_request',
      `${CONTEXT_EXTENSIONS.delegation} needs ${CONTEXT_EXTENSIONS.audience} (whom the token is for)`,
    );
  }
  if (ctx.extensions[CONTEXT_EXTENSIONS.scope] !== undefined) {
    return deny(
      'bad_request',
      `${CONTEXT_EXTENSIONS.scope} cannot be combined with ${CONTEXT_EXTENSIONS.delegation}`,
    );
  }
  return undefined;
}

const failure = (err: unknown): Decision => denialOf(err, 'delegation');

/** Records what the phase decided for `check --explain`; the decision is returned unchanged. */
function explained(
  explain: Explanation | undefined,
  d: Decision,
  facts: { audience?: string; saga?: string; delegatedToken?: 'cache' | 'token-exchange' } = {},
): Decision {
  explain?.add('inject_delegated_token', d.allow ? d.reason : 'denied', {
    ...facts,
    reason: d.allow ? undefined : d.reason,
    note: d.allow
      ? d.reason === 'delegated'
        ? 'authorization: Bearer <delegated token> (value not shown)'
        : undefined
      : d.message,
  });
  return d;
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
  const withToken = (token: string): Decision =>
    allow('delegated', [['authorization', `Bearer ${token}`]]);
  return {
    name: 'inject_delegated_token',
    onDeadline: {
      reason: 'delegation_unavailable',
      message: "no delegated token: token-exchange did not answer before Envoy's deadline",
    },
    run(ev): PhaseResult | Promise<PhaseResult> {
      if (ev.request.extensions[CONTEXT_EXTENSIONS.delegation] === undefined) return undefined;
      const explain = ev.explain;
      const refused = delegationRoute(ev.request);
      if (refused) return explained(explain, refused);
      const target = selectTarget(ev.request, allowlist, explain, 'inject_delegated_token');
      if ('allow' in target) return target;
      const sagaId = ev.request.headers[sagaIdHeader];
      const problem = sagaIdProblem(sagaId);
      if (problem) return explained(explain, deny('invalid_saga_id', `${sagaIdHeader} ${problem}`));
      const facts = { audience: target.audience, saga: sagaId! };
      let token: string | Promise<string>;
      try {
        token = cache.get({ audience: target.audience, sagaId: sagaId! });
      } catch (err) {
        return explained(explain, failure(err), { ...facts, delegatedToken: 'cache' });
      }
      if (typeof token === 'string') {
        const d = withToken(token);
        return explain ? explained(explain, d, { ...facts, delegatedToken: 'cache' }) : d;
      }
      const decided = token.then(withToken, failure);
      return explain
        ? decided.then((d) => explained(explain, d, { ...facts, delegatedToken: 'token-exchange' }))
        : decided;
    },
  };
}
