import type { ReasonCode } from '../errors.js';

export type HeaderList = readonly (readonly [string, string])[];

/** The outcome of one check, before it is shaped into Envoy's CheckResponse. */
export interface Decision {
  readonly allow: boolean;
  readonly reason: ReasonCode;
  /** Safe to show the caller: never contains a token, key or claim value. */
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
