import type { sendUnaryData, ServerUnaryCall } from '@grpc/grpc-js';
import type { CheckRequest, CheckResponse } from '../envoy/types.js';
import { JwtxError } from '../errors.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import { deny, type Decision } from './decision.js';
import { toRequestContext, type Direction, type RequestContext } from './request-context.js';
import { toCheckResponse } from './response.js';

export type DirectionCheck = (ctx: RequestContext) => Decision | Promise<Decision>;

export interface CheckDeps {
  readonly inbound: DirectionCheck;
  readonly outbound: DirectionCheck;
  readonly metrics: Metrics;
  readonly logger: Logger;
}

export interface Evaluated {
  readonly decision: Decision;
  readonly ctx: RequestContext | undefined;
}

/**
 * Request → context → direction pipeline → decision. Never throws: anything unexpected denies.
 * Synchronous when the pipeline was (the warm path), so no promise is created per check.
 */
export function evaluate(deps: CheckDeps, req: CheckRequest): Evaluated | Promise<Evaluated> {
  let ctx: RequestContext | undefined;
  const failed = (err: unknown): Evaluated => {
    if (err instanceof JwtxError) return { decision: deny(err.code, err.message), ctx };
    deps.logger.error('check failed unexpectedly; denying', { error: err as Error });
    return { decision: deny('internal', 'internal error'), ctx };
  };
  try {
    ctx = toRequestContext(req);
    const decision = ctx.direction === 'outbound' ? deps.outbound(ctx) : deps.inbound(ctx);
    if (decision instanceof Promise) {
      const c = ctx;
      return decision.then((d) => ({ decision: d, ctx: c }), failed);
    }
    return { decision, ctx };
  } catch (err) {
    return failed(err);
  }
}

/** Tracks in-flight checks so shutdown can wait for them. */
export class InFlight {
  private count = 0;
  private waiters: (() => void)[] = [];

  get size(): number {
    return this.count;
  }

  enter(): void {
    this.count++;
  }

  leave(): void {
    this.count--;
    if (this.count === 0) for (const w of this.waiters.splice(0)) w();
  }

  idle(): Promise<void> {
    return this.count === 0 ? Promise.resolve() : new Promise((r) => this.waiters.push(r));
  }
}

function logDecision(
  logger: Logger,
  decision: Decision,
  ctx: RequestContext | undefined,
  direction: Direction | 'unknown',
): void {
  if (decision.allow && !decision.wouldDeny) {
    if (logger.enabled('debug'))
      logger.debug('allow', {
        direction,
        reason: decision.reason,
        path: ctx?.path,
        requestId: ctx?.requestId,
      });
    return;
  }
  logger.info(decision.allow ? 'dry-run deny' : 'deny', {
    direction,
    reason: decision.wouldDeny ?? decision.reason,
    message: decision.message,
    method: ctx?.method,
    path: ctx?.path,
    requestId: ctx?.requestId,
  });
}

/** The grpc-js handler for envoy.service.auth.v3.Authorization/Check. */
export function createCheckHandler(deps: CheckDeps, inFlight: InFlight) {
  const durations = new Map<string, { observe(seconds: number): void }>();
  const duration = (direction: string) => {
    let child = durations.get(direction);
    if (!child)
      durations.set(direction, (child = deps.metrics.checkDuration.labels({ direction })));
    return child;
  };
  return (
    call: ServerUnaryCall<CheckRequest, CheckResponse>,
    callback: sendUnaryData<CheckResponse>,
  ): void => {
    const start = process.hrtime.bigint();
    inFlight.enter();
    deps.metrics.checksInFlight.inc();
    const respond = ({ decision, ctx }: Evaluated): void => {
      const direction = ctx?.direction ?? 'unknown';
      const label = decision.wouldDeny ? 'dry_run' : decision.allow ? 'allow' : 'deny';
      // A dry-run decision is counted under the reason it would have denied for.
      deps.metrics.countCheck(direction, label, decision.wouldDeny ?? decision.reason);
      duration(direction).observe(Number(process.hrtime.bigint() - start) / 1e9);
      deps.metrics.checksInFlight.dec();
      logDecision(deps.logger, decision, ctx, direction);
      callback(null, toCheckResponse(decision, ctx));
      inFlight.leave();
    };
    const evaluated = evaluate(deps, call.request);
    if (evaluated instanceof Promise) void evaluated.then(respond);
    else respond(evaluated);
  };
}
