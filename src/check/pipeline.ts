import type { ReasonCode } from '../errors.js';
import type { VerifiedIdentity } from '../jwt/identity.js';
import { allow, type Decision, type HeaderList } from './decision.js';
import type { RequestContext } from './request-context.js';

/**
 * A check runs as a list of phases (identity → authorization → response), like Authorino's
 * pipeline. A phase either adds to the evaluation and returns undefined (go on), or returns the
 * final Decision (deny, or an early allow such as an exempt route).
 */
export interface Evaluation {
  readonly request: RequestContext;
  identity: VerifiedIdentity | undefined;
  /** The caller's bearer token, once the identity phase has read it. */
  credential: string | undefined;
  /** A denial a dry-run phase would have made; the check then ends as `dry_run` (allowed). */
  wouldDeny: { readonly reason: ReasonCode; readonly message: string } | undefined;
  /** Headers to set on the upstream request if the check allows. */
  readonly setHeaders: (readonly [string, string])[];
}

export type PhaseResult = Decision | undefined;

export interface Phase {
  /** Bounded metric label: the phase's name. */
  readonly name: string;
  run(ev: Evaluation): PhaseResult | Promise<PhaseResult>;
}

/** Observes phase durations without coupling the pipeline to the metrics module. */
export type PhaseObserver = (phase: string, seconds: number) => void;

export interface Pipeline {
  run(request: RequestContext): Promise<Decision>;
}

export function createPipeline(
  phases: readonly Phase[],
  finalReason: 'allowed' | 'injected' | 'passthrough',
  observe?: PhaseObserver,
): Pipeline {
  return {
    async run(request) {
      const ev: Evaluation = {
        request,
        identity: undefined,
        credential: undefined,
        wouldDeny: undefined,
        setHeaders: [],
      };
      for (const phase of phases) {
        const start = observe ? process.hrtime.bigint() : 0n;
        const pending = phase.run(ev);
        const result = pending instanceof Promise ? await pending : pending;
        if (observe) observe(phase.name, Number(process.hrtime.bigint() - start) / 1e9);
        if (result) return result;
      }
      if (ev.wouldDeny) {
        const { reason, message } = ev.wouldDeny;
        return { ...allow('dry_run', ev.setHeaders), message, wouldDeny: reason };
      }
      return allow(finalReason, ev.setHeaders as HeaderList);
    },
  };
}
