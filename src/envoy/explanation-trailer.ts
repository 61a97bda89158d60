/**
 * The wire form of a check's explanation (see src/check/explain.ts): the call metadata that asks
 * for it and the trailer that carries it, as `zed permission check --explain` does with SpiceDB.
 * Shared by the server (check/handler.ts) and the client (envoy/client.ts, `jwtexchange check`).
 */
export type Fact = string | number | boolean;

export interface ExplainStep {
  /** The phase (or `request` / `decision`). */
  readonly phase: string;
  /** What happened, in one word: verified, exempt, passthrough, allowed, denied, … */
  readonly outcome: string;
  readonly [fact: string]: Fact;
}

/** gRPC call metadata that asks for an explanation (value `true`). */
export const EXPLAIN_REQUEST_KEY = 'jwtexchange-explain';
/** Response trailer carrying the explanation as JSON (printable ASCII). */
export const EXPLAIN_TRAILER_KEY = 'jwtexchange-explanation';

/** JSON with every non-ASCII character escaped, so it fits a (non-binary) gRPC trailer. */
export function encodeExplanation(steps: readonly ExplainStep[]): string {
  return JSON.stringify(steps).replace(
    /[^\x20-\x7e]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/** Parses a trailer value; undefined when it is not an explanation. */
export function decodeExplanation(value: unknown): ExplainStep[] | undefined {
  if (typeof value !== 'string') return undefined;
  try {
    const parsed = JSON.parse(value) as unknown;
    if (!Array.isArray(parsed)) return undefined;
    return parsed.filter(
      (s): s is ExplainStep =>
        typeof s === 'object' &&
        s !== null &&
        typeof (s as ExplainStep).phase === 'string' &&
        typeof (s as ExplainStep).outcome === 'string',
    );
  } catch {
    return undefined;
  }
}
