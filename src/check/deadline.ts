import { timerAt } from '../clock.js';

/**
 * Envoy sends its ext_authz timeout as `grpc-timeout`; past it Envoy answers `status_on_error`
 * (503) itself, without our reason, and whatever we decide later is lost. So a check still
 * waiting on a remote peer is answered a little before that deadline, with the reason of the
 * peer it waits for. The margin covers the answer's trip back: 10% of the budget, 10–250 ms.
 *
 * The deadline is wall-clock time set by the network peer, so it is measured with Date.now and a
 * real timer, not the injected Clock (which may be a test's ManualClock).
 */
export function answerBy(deadline: number | Date, now = Date.now()): number | undefined {
  const at = deadline instanceof Date ? deadline.getTime() : deadline;
  if (!Number.isFinite(at)) return undefined;
  const budget = at - now;
  return at - Math.min(250, Math.max(10, budget * 0.1));
}

/**
 * Settles like `work`, or with `late()` if `work` has not settled by `by` (epoch ms); a deadline
 * past Node's longest timer sets none (it would fire at once).
 */
export function withinDeadline<T>(work: Promise<T>, by: number, late: () => T): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = timerAt(by, () => resolve(late()));
    work.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (err: unknown) => {
        clearTimeout(timer);
        reject(err as Error);
      },
    );
  });
}
