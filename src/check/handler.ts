import { Metadata, type sendUnaryData, type ServerUnaryCall } from '@grpc/grpc-js';
import type { CheckRequest, CheckResponse } from '../envoy/types.js';
import { answerBy } from './deadline.js';
import { decide, type CheckDeps, type Decided } from './decide.js';
import { explainDecision, logDecision } from './decision-log.js';
import {
  encodeExplanation,
  EXPLAIN_REQUEST_KEY,
  EXPLAIN_TRAILER_KEY,
} from '../envoy/explanation-trailer.js';
import { Explanation } from './explain.js';
import type { InFlight } from './in-flight.js';
import { toCheckResponse } from './response.js';

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

/**
 * The grpc-js handler for envoy.service.auth.v3.Authorization/Check: the adapter between the
 * RPC and decide() (decide.ts), with the check's metrics, its log line (decision-log.ts), the
 * in-flight count shutdown waits on (in-flight.ts) and the explanation trailer.
 */
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
    const respond = ({ decision, ctx }: Decided): void => {
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
    const decided = decide(deps, call.request, explain, answerBy(call.getDeadline()));
    if (decided instanceof Promise) void decided.then(respond);
    else respond(decided);
  };
}
