import type { CheckRequest, CheckResponse } from '../envoy/types.js';
import { decide, type CheckDeps, type Decided } from './decide.js';
import { explainDecision, logDecision } from './decision-log.js';
import { Explanation } from './explain.js';
import type { InFlight } from './in-flight.js';
import { toCheckResponse } from './response.js';

/** How a transport hands a check over: the request (or how to read it) and its deadline. */
export interface CheckCall {
  /** A function is called inside the check, so a request it cannot read is denied like any. */
  readonly request: CheckRequest | (() => CheckRequest);
  /** Epoch ms by which the answer must be sent (check/deadline.ts); none without a deadline. */
  readonly answerBy: number | undefined;
  /** The caller asked for the decision's steps (jwtexchange check --explain). */
  readonly explain: boolean;
}

export type CheckReply = (response: CheckResponse, explanation: Explanation | undefined) => void;

/** Runs one check and replies; one per process, shared by the gRPC and HTTP listeners. */
export type CheckRunner = (call: CheckCall, reply: CheckReply) => void;

/**
 * One check, whatever the transport (gRPC: handler.ts; HTTP: server/http-check-server.ts):
 * decide() with the check's metrics, its log line (decision-log.ts), the in-flight count
 * shutdown waits on (in-flight.ts), then the CheckResponse to reply with.
 */
export function createCheckRunner(deps: CheckDeps, inFlight: InFlight): CheckRunner {
  // At debug level every decision is logged with its explanation; otherwise one is built only
  // for a caller that asks (jwtexchange check), so the hot path pays nothing.
  const debug = deps.logger.enabled('debug');
  // The gauge reads the in-flight count when scraped: no metric call per check for it.
  const gauge = deps.metrics.checksInFlight;
  deps.metrics.onCollect(gauge, () => gauge.set(inFlight.size));
  return (call: CheckCall, reply: CheckReply): void => {
    const start = performance.now();
    inFlight.enter();
    const explain = debug || call.explain ? new Explanation() : undefined;
    const respond = ({ decision, ctx }: Decided): void => {
      const direction = ctx?.direction ?? 'unknown';
      const label = decision.wouldDeny ? 'dry_run' : decision.allow ? 'allow' : 'deny';
      // A dry-run decision is counted under the reason it would have denied for.
      deps.metrics.countCheck(direction, label, decision.wouldDeny ?? decision.reason);
      deps.metrics.observeCheckDuration(direction, (performance.now() - start) / 1e3);
      if (explain) explainDecision(explain, decision);
      logDecision(deps.logger, decision, ctx, direction, explain);
      try {
        reply(toCheckResponse(decision, ctx), call.explain ? explain : undefined);
      } catch (err) {
        // A transport that cannot send its answer fails that one check (Envoy fails it closed);
        // thrown on, it would end an asynchronous check in an unhandled rejection, which stops
        // the process and every check in it.
        deps.logger.error('check answer could not be sent', {
          error: err as Error,
          requestId: ctx?.requestId,
        });
      } finally {
        inFlight.leave();
      }
    };
    const decided = decide(deps, call.request, explain, call.answerBy);
    if (decided instanceof Promise) void decided.then(respond);
    else respond(decided);
  };
}
