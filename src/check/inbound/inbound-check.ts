import type { Decision } from '../decision.js';
import type { Explanation } from '../explain.js';
import type { Pipeline } from '../pipeline.js';
import type { RequestContext } from '../request-context.js';
import { spoofedHeaders } from './spoofed.js';

export type InboundMode = 'enforce' | 'dry-run';

/**
 * Wraps the inbound pipeline with what holds for every inbound request: spoofed identity
 * headers are removed, and in dry-run a denial is logged and counted but the request allowed.
 */
export function inboundCheck(pipeline: Pipeline, mode: InboundMode) {
  const complete = (ctx: RequestContext, decision: Decision, explain?: Explanation): Decision => {
    if (decision.allow) {
      return { ...decision, removeHeaders: spoofedHeaders(ctx.headers, decision.setHeaders) };
    }
    if (mode === 'dry-run') {
      explain?.add('mode', 'dry_run', {
        wouldDeny: decision.reason,
        note: 'inbound.mode is dry-run: the denial is logged and counted, the request allowed',
      });
      return {
        allow: true,
        reason: 'dry_run',
        message: decision.message,
        setHeaders: [],
        removeHeaders: spoofedHeaders(ctx.headers, []),
        wouldDeny: decision.reason,
      };
    }
    return decision;
  };
  return (ctx: RequestContext, explain?: Explanation): Decision | Promise<Decision> => {
    const decision = pipeline.run(ctx, explain);
    return decision instanceof Promise
      ? decision.then((d) => complete(ctx, d, explain))
      : complete(ctx, decision, explain);
  };
}
