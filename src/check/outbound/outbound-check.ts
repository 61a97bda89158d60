import { deny, type Decision } from '../decision.js';
import type { Explanation } from '../explain.js';
import type { RequestContext } from '../request-context.js';
import { routeAudience } from './inject-token.js';

/**
 * Outbound requests when this sidecar has no outbound section: routes that would pass through
 * anyway (untagged, or a `jwtexchange.when-header` the request lacks) still do; a route that asks
 * for a token is refused rather than sent on without one.
 */
export async function outboundWithoutTokens(
  ctx: RequestContext,
  explain?: Explanation,
): Promise<Decision> {
  const audience = routeAudience(ctx, explain, 'outbound');
  if (typeof audience !== 'string') return audience;
  explain?.add('outbound', 'denied', {
    audience,
    reason: 'audience_not_allowed',
    note: 'this sidecar has no outbound section (token injection is not configured)',
  });
  return deny('audience_not_allowed', 'outbound token injection is not configured');
}
