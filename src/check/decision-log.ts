import type { Logger } from '../log.js';
import type { Decision } from './decision.js';
import { nameList, type Explanation } from './explain.js';
import type { Direction, RequestContext } from './request-context.js';

/** The last step of an explanation: the decision, its reason, the headers set and removed. */
export function explainDecision(explain: Explanation, decision: Decision): void {
  explain.add('decision', decision.allow ? 'allow' : 'deny', {
    reason: decision.reason,
    wouldDeny: decision.wouldDeny,
    set: nameList(decision.setHeaders.map(([k]) => k)),
    removed: nameList(decision.removeHeaders),
  });
}

/** One log line per decision: every denial (and dry-run denial) at info, allows at debug. */
export function logDecision(
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
