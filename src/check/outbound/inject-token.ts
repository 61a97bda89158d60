import { JwtxError } from '../../errors.js';
import type { ServiceTokenCache } from '../../tokens/service-token-cache.js';
import { TokenRequestError } from '../../tokens/token-errors.js';
import { allow, deny, type Decision } from '../decision.js';
import type { Phase, PhaseResult } from '../pipeline.js';
import { EXT, type RequestContext } from '../request-context.js';

/** audience → scopes routes may ask for. */
export type AudienceAllowlist = ReadonlyMap<string, ReadonlySet<string>>;

/**
 * Route phase: which service token, if any, this outbound request gets. Untagged routes (no
 * `jwtexchange.audience`) and tagged routes whose `jwtexchange.when-header` is absent pass through
 * untouched. An audience or scope off the allowlist is refused: a token is never sent to a place
 * nobody configured.
 */
export function selectTarget(
  ctx: RequestContext,
  allowlist: AudienceAllowlist,
): { audience: string; scope: string } | Decision {
  const audience = ctx.extensions[EXT.audience];
  if (audience === undefined) return allow('passthrough');
  const whenHeader = ctx.extensions[EXT.whenHeader];
  if (whenHeader !== undefined && ctx.headers[whenHeader.toLowerCase()] === undefined) {
    return allow('passthrough');
  }
  const scopes = allowlist.get(audience);
  if (!scopes) {
    return deny(
      'audience_not_allowed',
      `audience ${JSON.stringify(audience)} is not on outbound.audiences`,
    );
  }
  const scope = ctx.extensions[EXT.scope] ?? '';
  if (scope !== '' && !scopes.has(scope)) {
    return deny(
      'audience_not_allowed',
      `scope ${JSON.stringify(scope)} is not allowed for audience ${JSON.stringify(audience)}`,
    );
  }
  return { audience, scope };
}

function failure(err: unknown): Decision {
  if (err instanceof TokenRequestError && err.kind === 'refused') {
    return deny('service_token_refused', err.message);
  }
  if (err instanceof TokenRequestError) {
    return deny('service_token_unavailable', `no valid service token: ${err.message}`);
  }
  if (err instanceof JwtxError) return deny(err.code, err.message);
  throw err;
}

/** Injection phase: `authorization: Bearer <service JWT>` overwrites whatever the app sent. */
export function injectServiceTokenPhase(
  allowlist: AudienceAllowlist,
  cache: ServiceTokenCache,
): Phase {
  const withToken = (token: string): PhaseResult =>
    allow('injected', [['authorization', `Bearer ${token}`]]);
  return {
    name: 'inject_service_token',
    run(ev) {
      const target = selectTarget(ev.request, allowlist);
      if ('allow' in target) return target;
      let token: string | Promise<string>;
      try {
        token = cache.get(target);
      } catch (err) {
        return failure(err);
      }
      // Warm path: no promise, no await.
      return typeof token === 'string' ? withToken(token) : token.then(withToken, failure);
    },
  };
}
