/**
 * Exponential backoff with "equal jitter": half the step is fixed, half random, so retries from
 * many sidecars spread out but never collapse to zero. `random` is injected for tests.
 */
export function backoffDelay(
  failures: number,
  minMs: number,
  maxMs: number,
  random: () => number = Math.random,
): number {
  const step = Math.min(maxMs, minMs * 2 ** Math.max(0, failures - 1));
  return step / 2 + (random() * step) / 2;
}

/** When to refresh a token: at `fraction` of its lifetime, moved by ± `jitter` of that point. */
export function refreshPoint(
  issuedAtMs: number,
  expiresAtMs: number,
  fraction: number,
  jitter: number,
  random: () => number = Math.random,
): number {
  const base = (expiresAtMs - issuedAtMs) * fraction;
  return issuedAtMs + base * (1 + (random() * 2 - 1) * jitter);
}
