import type { CheckRequest } from '../envoy/types.js';
import type { Logger } from '../log.js';
import type { SidecarMetrics } from '../metrics/sidecar.js';
import { deny, type Decision } from './decision.js';
import type { Explanation } from './explain.js';
import { failureOf } from './failure.js';
import { toRequestContext, type RequestContext } from './request-context.js';

export type DirectionCheck = (
  ctx: RequestContext,
  explain?: Explanation,
) => Decision | Promise<Decision>;

export interface CheckDeps {
  readonly inbound: DirectionCheck;
  readonly outbound: DirectionCheck;
  readonly metrics: SidecarMetrics;
  readonly logger: Logger;
}

/** A decision and the request it was made for (undefined when the request was unreadable). */
export interface Decided {
  readonly decision: Decision;
  readonly ctx: RequestContext | undefined;
}

/**
 * Request → context → direction pipeline → decision. Never throws: anything unexpected denies.
 * Synchronous when the pipeline was (the warm path), so no promise is created per check.
 */
export function decide(
  deps: CheckDeps,
  /** A function is read inside the check: a request it cannot read is denied, not thrown. */
  req: CheckRequest | (() => CheckRequest),
  explain?: Explanation,
  answerBy?: number,
): Decided | Promise<Decided> {
  let ctx: RequestContext | undefined;
  const failed = (err: unknown): Decided => {
    const f = failureOf(err);
    if (f) return { decision: deny(f.reason, f.message), ctx };
    deps.logger.error('check failed unexpectedly; denying', {
      error: err as Error,
      requestId: ctx?.requestId,
    });
    return { decision: deny('internal', 'internal error'), ctx };
  };
  try {
    ctx = toRequestContext(typeof req === 'function' ? req() : req, answerBy);
    explain?.add('request', ctx.direction, { method: ctx.method, path: ctx.path, host: ctx.host });
    const decision =
      ctx.direction === 'outbound' ? deps.outbound(ctx, explain) : deps.inbound(ctx, explain);
    if (decision instanceof Promise) {
      const c = ctx;
      return decision.then((d) => ({ decision: d, ctx: c }), failed);
    }
    return { decision, ctx };
  } catch (err) {
    return failed(err);
  }
}
