import type { ReasonCode } from '../errors.js';

export type HeaderList = readonly (readonly [string, string])[];

/** The outcome of one check, before it is shaped into Envoy's CheckResponse. */
export interface Decision {
  readonly allow: boolean;
  readonly reason: ReasonCode;
  /**
   * Why, for the operator's log (with the request id): may name rules, files, addresses, upstream
   * errors; never a token, key or secret. Callers are shown CALLER_MESSAGES[reason] instead.
   */
  readonly message: string;
  /** Headers set on the upstream request (allow only). */
  readonly setHeaders: HeaderList;
  /** Headers removed from the upstream request (allow only). */
  readonly removeHeaders: readonly string[];
  /** When dry-run turned a denial into an allow: the reason it would have been denied for. */
  readonly wouldDeny?: ReasonCode;
}

const NONE: HeaderList = [];

export function allow(
  reason: ReasonCode,
  setHeaders: HeaderList = NONE,
  removeHeaders: readonly string[] = [],
): Decision {
  return { allow: true, reason, message: 'ok', setHeaders, removeHeaders };
}

export function deny(reason: ReasonCode, message: string): Decision {
  return { allow: false, reason, message, setHeaders: NONE, removeHeaders: [] };
}
