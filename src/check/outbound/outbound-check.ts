import { allow, deny, type Decision } from '../decision.js';
import { EXT, type RequestContext } from '../request-context.js';

/**
 * Outbound requests: routes without `jwtexchange.audience` pass through untouched. Tagged routes
 * get a service token injected (see service-token phase); without an outbound section every
 * tagged route is refused rather than sent on without a token.
 */
export async function outboundWithoutTokens(ctx: RequestContext): Promise<Decision> {
  if (ctx.extensions[EXT.audience] === undefined) return allow('passthrough');
  return deny('audience_not_allowed', 'outbound token injection is not configured');
}
