import type { ReasonCode } from '../errors.js';
import type { VerifiedIdentity } from '../jwt/identity.js';
import { withinDeadline } from './deadline.js';
import { allow, deny, type Decision, type HeaderList } from './decision.js';
import type { Explanation } from './explain.js';
import type { RequestContext } from './request-context.js';

/**
 * A check runs as a list of phases (identity → authorization → response), like Authorino's
 * pipeline. A phase either adds to the check state and returns undefined (go on), or returns the
 * final Decision (deny, or an early allow such as an exempt route).
 */
export interface CheckState {
  readonly request: RequestContext;
  identity: VerifiedIdentity | undefined;
  /** The caller's bearer token, once the identity phase has read it. */
  credential: string | undefined;
  /** A denial a dry-run phase would have made; the check then ends as `dry_run` (allowed). */
  wouldDeny: { readonly reason: ReasonCode; readonly message: string } | undefined;
  /** Headers to set on the upstream request if the check allows. */
  readonly setHeaders: (readonly [string, string])[];
  /** Present only when the check is explained (check --explain, debug log): phases record here. */
  readonly explain?: Explanation | undefined;
}

export type PhaseResult = Decision | undefined;

export interface Phase {
  /** Bounded metric label: the phase's name. */
  readonly name: string;
  /**
   * For a phase that waits on a remote peer: the denial when it is still waiting at Envoy's
   * deadline (the request's answerBy), so Envoy gets our reason instead of its own timeout.
   */
  readonly onDeadline?: { readonly reason: ReasonCode; readonly message: string };
  run(ev: CheckState): PhaseResult | Promise<PhaseResult>;
}

/**
 * Observes phase durations without coupling the pipeline to the metrics module. Only phases that
 * did asynchronous work (a cache miss, a remote call) are observed: timing the in-memory ones
 * would cost more than the work itself on the hot path.
 */
export type PhaseObserver = (phase: string, seconds: number) => void;

export interface Pipeline {
  /** Synchronous when every phase answered synchronously (the warm path), a promise otherwise. */
  run(request: RequestContext, explain?: Explanation): Decision | Promise<Decision>;
}

/** A phase that recorded nothing still shows in an explanation, with what it returned. */
function recordSilentPhase(ev: CheckState, name: string, before: number, result: PhaseResult) {
  if (!ev.explain || ev.explain.steps.length !== before) return;
  ev.explain.add(name, result ? (result.allow ? 'allow' : 'deny') : 'passed', {
    reason: result?.reason,
  });
}

export function createPipeline(
  phases: readonly Phase[],
  finalReason: 'allowed' | 'injected' | 'passthrough',
  observe?: PhaseObserver,
): Pipeline {
  const finish = (ev: CheckState): Decision => {
    if (ev.wouldDeny) {
      const { reason, message } = ev.wouldDeny;
      return { ...allow('dry_run', ev.setHeaders), message, wouldDeny: reason };
    }
    return allow(finalReason, ev.setHeaders as HeaderList);
  };

  /** Runs phases from index i; stays synchronous until a phase returns a promise. */
  const runFrom = (ev: CheckState, i: number): Decision | Promise<Decision> => {
    for (; i < phases.length; i++) {
      const phase = phases[i]!;
      const steps = ev.explain?.steps.length ?? 0;
      const result = phase.run(ev);
      if (result instanceof Promise) {
        // Timed from here: only a phase that waits is observed, and its synchronous start is
        // microseconds; reading the clock around every phase of every check cost more.
        const start = observe ? performance.now() : 0;
        const next = i + 1;
        const late = phase.onDeadline;
        const by = ev.request.answerBy;
        const bounded =
          late && by !== undefined
            ? withinDeadline(result, by, () => deny(late.reason, late.message))
            : result;
        return bounded.then((r) => {
          observe?.(phase.name, (performance.now() - start) / 1e3);
          if (ev.explain) recordSilentPhase(ev, phase.name, steps, r);
          return r ?? runFrom(ev, next);
        });
      }
      if (ev.explain) recordSilentPhase(ev, phase.name, steps, result);
      if (result) return result;
    }
    return finish(ev);
  };

  return {
    run: (request, explain) =>
      runFrom(
        {
          request,
          identity: undefined,
          credential: undefined,
          wouldDeny: undefined,
          setHeaders: [],
          explain,
        },
        0,
      ),
  };
}
