import type { ExplainStep, Fact } from '../envoy/explanation-trailer.js';

/** At most this many names in a list fact (a client controls how many headers it sends). */
const MAX_NAMES = 16;

/**
 * What one check did, phase by phase: for `jwtexchange check --explain` and the debug decision
 * log. Modelled on `zed permission check --explain`, which asks SpiceDB for debug information
 * with a request header and reads it from a response trailer: the explanation is requested with
 * gRPC call metadata on the Check RPC itself and returned in a trailer. Envoy's ext_authz client
 * never forwards a downstream header as call metadata and ignores trailers, so a caller behind
 * Envoy can neither ask for nor see it.
 *
 * Built only when asked for (or when the log level is debug): phases write to it through an
 * optional reference, so the hot path pays one undefined check per phase. A step holds names,
 * ids, cache results and reason codes — never a token, key or claim value besides the subject.
 */
export class Explanation {
  readonly steps: ExplainStep[] = [];

  add(phase: string, outcome: string, facts: Readonly<Record<string, Fact | undefined>> = {}) {
    const step: Record<string, Fact> = { phase, outcome };
    for (const [k, v] of Object.entries(facts)) if (v !== undefined && v !== '') step[k] = v;
    this.steps.push(step as ExplainStep);
  }
}

/** `a, b, c (+4 more)`: a bounded list of names for one fact. */
export function nameList(names: readonly string[]): string {
  if (names.length <= MAX_NAMES) return names.join(', ');
  return `${names.slice(0, MAX_NAMES).join(', ')} (+${names.length - MAX_NAMES} more)`;
}
