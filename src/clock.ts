/**
 * The one seam for time. Everything that expires, refreshes, retries or backs off takes a Clock
 * (and Timers for schedules) from here, so tests move time by hand (test/helpers/manual-time.ts)
 * instead of sleeping. Deadlines handed to a network peer or library (gRPC deadlines, Envoy's
 * grpc-timeout) are real time by nature: deadlineIn() reads the system clock on purpose.
 */

/** Time source, injected everywhere time matters so expiry, refresh and backoff are testable. */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

export const nowSeconds = (clock: Clock): number => Math.floor(clock.now() / 1000);

/** Timer source, injected next to the clock so refresh and retry schedules run in tests by hand. */
export interface Timers {
  set(fn: () => void, delayMs: number): unknown;
  clear(handle: unknown): void;
}

export const systemTimers: Timers = {
  set: (fn, delayMs) => setTimeout(fn, Math.max(0, delayMs)).unref(),
  clear: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/** Calls fn every `everyMs` on the given timers until the returned function is called. */
export function repeat(timers: Timers, fn: () => void, everyMs: number): () => void {
  let handle: unknown;
  let stopped = false;
  const tick = () => {
    if (stopped) return;
    handle = timers.set(tick, everyMs);
    fn();
  };
  handle = timers.set(tick, everyMs);
  return () => {
    stopped = true;
    timers.clear(handle);
  };
}

/** Resolves after ms of real time; keeps the process alive meanwhile (a drain delay, a poll). */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}

/**
 * A deadline `ms` from now in real time (ms since the epoch), for a network call: gRPC and Envoy
 * measure deadlines with the system clock, so an injected test clock must not move them.
 */
export const deadlineIn = (ms: number): number => Date.now() + ms;

/** Node's longest timer (~24.8 days): setTimeout fires a longer delay after 1 ms. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * A real-time timer for a deadline a caller set (epoch ms): at once when it has passed; none for
 * Infinity or a deadline past Node's longest timer (grpc-timeout allows 99999999H), which
 * setTimeout would fire at once.
 */
export function timerAt(at: number, fn: () => void): NodeJS.Timeout | undefined {
  const delay = Math.max(0, at - Date.now());
  return delay <= MAX_TIMER_MS ? setTimeout(fn, delay) : undefined;
}
