import type { ServiceTokenSource } from '../../tokens/remote-service-tokens.js';
import { allow, deny, type Decision } from '../decision.js';
import type { Explanation } from '../explain.js';
import { denialOf } from '../failure.js';
import type { Phase, PhaseResult } from '../pipeline.js';
import { CONTEXT_EXTENSIONS, type RequestContext } from '../request-context.js';

/** audience → scopes routes may ask for. */
export type AudienceAllowlist = ReadonlyMap<string, ReadonlySet<string>>;

/**
 * The pass-through a route asks for: untagged routes (no `jwtexchange.audience`) and tagged
 * routes whose `jwtexchange.when-header` is absent from the request go on untouched. Returns the
 * route's audience when the route wants a token.
 */
export function routeAudience(
  ctx: RequestContext,
  explain: Explanation | undefined,
  phase: string,
): string | Decision {
  const audience = ctx.extensions[CONTEXT_EXTENSIONS.audience];
  if (audience === undefined) {
    explain?.add(phase, 'passthrough', {
      note: `untagged route (no ${CONTEXT_EXTENSIONS.audience})`,
    });
    return allow('passthrough');
  }
  const whenHeader = ctx.extensions[CONTEXT_EXTENSIONS.whenHeader];
  if (whenHeader !== undefined && ctx.headers[whenHeader.toLowerCase()] === undefined) {
    explain?.add(phase, 'passthrough', {
      audience,
      note: `${CONTEXT_EXTENSIONS.whenHeader}: the request has no ${whenHeader.toLowerCase()} header`,
    });
    return allow('passthrough');
  }
  return audience;
}

/**
 * Route phase: which service token, if any, this outbound request gets (see routeAudience for
 * the routes that pass through). An audience or scope off the allowlist is refused: a token is
 * never sent to a place nobody configured.
 */
export function selectTarget(
  ctx: RequestContext,
  allowlist: AudienceAllowlist,
  explain?: Explanation,
  phase = 'inject_service_token',
): { audience: string; scope: string } | Decision {
  const audience = routeAudience(ctx, explain, phase);
  if (typeof audience !== 'string') return audience;
  const scopes = allowlist.get(audience);
  const scope = ctx.extensions[CONTEXT_EXTENSIONS.scope] ?? '';
  const refusal = !scopes
    ? `audience ${JSON.stringify(audience)} is not on outbound.audiences`
    : scope !== '' && !scopes.has(scope)
      ? `scope ${JSON.stringify(scope)} is not allowed for audience ${JSON.stringify(audience)}`
      : undefined;
  if (refusal !== undefined) {
    explain?.add(phase, 'denied', {
      audience,
      scope,
      reason: 'audience_not_allowed',
      note: refusal,
    });
    return deny('audience_not_allowed', refusal);
  }
  return { audience, scope };
}

const failure = (err: unknown): Decision => denialOf(err, 'service-token');

/** Records how the token was obtained (or why not); the decision itself is returned unchanged. */
function explained(
  explain: Explanation,
  target: { audience: string; scope: string },
  source: 'cache' | 'token-exchange',
  d: Decision,
): Decision {
  explain.add('inject_service_token', d.allow ? 'injected' : 'denied', {
    audience: target.audience,
    scope: target.scope,
    serviceToken: source,
    reason: d.allow ? undefined : d.reason,
    note: d.allow ? 'authorization: Bearer <service token> (value not shown)' : d.message,
  });
  return d;
}

/** Injection phase: `authorization: Bearer <service JWT>` overwrites whatever the app sent. */
export function injectServiceTokenPhase(
  allowlist: AudienceAllowlist,
  cache: ServiceTokenSource,
): Phase {
  const withToken = (token: string): Decision =>
    allow('injected', [['authorization', `Bearer ${token}`]]);
  return {
    name: 'inject_service_token',
    onDeadline: {
      reason: 'service_token_unavailable',
      message: "no valid service token: token-exchange did not answer before Envoy's deadline",
    },
    run(ev): PhaseResult | Promise<PhaseResult> {
      const explain = ev.explain;
      const target = selectTarget(ev.request, allowlist, explain);
      if ('allow' in target) return target;
      let token: string | Promise<string>;
      try {
        token = cache.get(target);
      } catch (err) {
        return explain ? explained(explain, target, 'cache', failure(err)) : failure(err);
      }
      // Warm path: no promise, no await.
      if (typeof token === 'string') {
        return explain ? explained(explain, target, 'cache', withToken(token)) : withToken(token);
      }
      const decided = token.then(withToken, failure);
      return explain
        ? decided.then((d) => explained(explain, target, 'token-exchange', d))
        : decided;
    },
  };
}
