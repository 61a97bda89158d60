import type { Decision } from '../check/decision.js';
import type { DirectionCheck } from '../check/handler.js';
import type { RequestContext } from '../check/request-context.js';
import type { ReasonCode } from '../errors.js';

/**
 * Per-rule dry-run. The authorize phase cannot end the pipeline with an allow (later phases still
 * have headers to set), so it records the denial it would have made here, keyed by the request,
 * and `wrap` reports the finished, allowed check as `dry_run` with `wouldDeny` — logged and
 * counted like the global inbound dry-run.
 */
export class DryRunLedger {
  private readonly denials = new WeakMap<RequestContext, { reason: ReasonCode; message: string }>();

  record(request: RequestContext, reason: ReasonCode, message: string): void {
    this.denials.set(request, { reason, message });
  }

  wrap(check: DirectionCheck): DirectionCheck {
    return async (ctx) => {
      const decision: Decision = await check(ctx);
      const would = this.denials.get(ctx);
      if (!would || !decision.allow || decision.wouldDeny) return decision;
      return { ...decision, reason: 'dry_run', message: would.message, wouldDeny: would.reason };
    };
  }
}
