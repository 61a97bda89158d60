import { Metadata, type sendUnaryData, type ServerUnaryCall } from '@grpc/grpc-js';
import type { CheckRequest, CheckResponse } from '../envoy/types.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import { answerBy } from './deadline.js';
import { deny, type Decision } from './decision.js';
import { failureOf } from './failure.js';
import {
  encodeExplanation,
  EXPLAIN_REQUEST_KEY,
  EXPLAIN_TRAILER_KEY,
} from '../envoy/explanation-trailer.js';
import { Explanation, nameList } from './explain.js';
import { toRequestContext, type Direction, type RequestContext } from './request-context.js';
import { toCheckResponse } from './response.js';

export type DirectionCheck = (
  ctx: RequestContext,
  explain?: Explanation,
) => Decision | Promise<Decision>;

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
export function evaluate(
  deps: CheckDeps,
  req: CheckRequest,
  explain?: Explanation,
  answerBy?: number,
): Evaluated | Promise<Evaluated> {
  let ctx: RequestContext | undefined;
  const failed = (err: unknown): Evaluated => {
    const f = failureOf(err);
    if (f) return { decision: deny(f.reason, f.message), ctx };
    deps.logger.error('check failed unexpectedly; denying', {
      error: err as Error,
      requestId: ctx?.requestId,
    });
    return { decision: deny('internal', 'internal error'), ctx };
  };
  try {
    ctx = toRequestContext(req, answerBy);
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

/** The last step of an explanation: the decision, its reason, the headers set and removed. */
function explainDecision(explain: Explanation, decision: Decision): void {
  explain.add('decision', decision.allow ? 'allow' : 'deny', {
    reason: decision.reason,
    wouldDeny: decision.wouldDeny,
    set: nameList(decision.setHeaders.map(([k]) => k)),
    removed: nameList(decision.removeHeaders),
  });
}

/** Asked for with call metadata, which Envoy's ext_authz client never sets from a request. */
function explanationRequested(call: ServerUnaryCall<CheckRequest, CheckResponse>): boolean {
  const v = call.metadata.get(EXPLAIN_REQUEST_KEY)[0];
  return v === 'true' || v === '1';
}

function explanationTrailer(explain: Explanation): Metadata {
  const trailer = new Metadata();
  trailer.set(EXPLAIN_TRAILER_KEY, encodeExplanation(explain.steps));
  return trailer;
}

function logDecision(
  logger: Logger,
  decision: Decision,
  ctx: RequestContext | undefined,
  direction: Direction | 'unknown',
  explain: Explanation | undefined,
): void {
  if (decision.allow && !decision.wouldDeny) {
    if (logger.enabled('debug'))
      logger.debug('allow', {
        direction,
        reason: decision.reason,
        path: ctx?.path,
        requestId: ctx?.requestId,
        explain: explain?.steps,
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
    // Present at debug level (or when the check was explained on request).
    explain: explain?.steps,
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
  // At debug level every decision is logged with its explanation; otherwise one is built only
  // for a caller that asks (jwtexchange check), so the hot path pays nothing.
  const debug = deps.logger.enabled('debug');
  return (
    call: ServerUnaryCall<CheckRequest, CheckResponse>,
    callback: sendUnaryData<CheckResponse>,
  ): void => {
    const start = process.hrtime.bigint();
    inFlight.enter();
    deps.metrics.checksInFlight.inc();
    const requested = explanationRequested(call);
    const explain = debug || requested ? new Explanation() : undefined;
    const respond = ({ decision, ctx }: Evaluated): void => {
      const direction = ctx?.direction ?? 'unknown';
      const label = decision.wouldDeny ? 'dry_run' : decision.allow ? 'allow' : 'deny';
      // A dry-run decision is counted under the reason it would have denied for.
      deps.metrics.countCheck(direction, label, decision.wouldDeny ?? decision.reason);
      duration(direction).observe(Number(process.hrtime.bigint() - start) / 1e9);
      deps.metrics.checksInFlight.dec();
      if (explain) explainDecision(explain, decision);
      logDecision(deps.logger, decision, ctx, direction, explain);
      const response = toCheckResponse(decision, ctx);
      if (requested) callback(null, response, explanationTrailer(explain!));
      else callback(null, response);
      inFlight.leave();
    };
    const evaluated = evaluate(deps, call.request, explain, answerBy(call.getDeadline()));
    if (evaluated instanceof Promise) void evaluated.then(respond);
    else respond(evaluated);
  };
}
