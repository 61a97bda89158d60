import { allow, deny, type Decision } from '../decision.js';
import type { Explanation } from '../explain.js';
import { EXT, type RequestContext } from '../request-context.js';

/**
 * Outbound requests: routes without `jwtexchange.audience` pass through untouched. Tagged routes
 * get a service token injected (see service-token phase); without an outbound section every
 * tagged route is refused rather than sent on without a token.
 */
export async function outboundWithoutTokens(
  ctx: RequestContext,
  explain?: Explanation,
): Promise<Decision> {
  if (ctx.extensions[EXT.audience] === undefined) {
    explain?.add('outbound', 'passthrough', { note: `untagged route (no ${EXT.audience})` });
    return allow('passthrough');
  }
  explain?.add('outbound', 'denied', {
    audience: ctx.extensions[EXT.audience],
    reason: 'audience_not_allowed',
    note: 'this sidecar has no outbound section (token injection is not configured)',
  });
  return deny('audience_not_allowed', 'outbound token injection is not configured');
}
