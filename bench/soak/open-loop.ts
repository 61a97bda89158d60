import { performance } from 'node:perf_hooks';

/**
 * An open-loop, evenly spaced request schedule: requests are due 1/rate apart, whether or
 * not earlier ones have answered (a slow answer never delays the next request, so latency is
 * not hidden by coordinated omission). Latency is measured from the due time, not the send time.
 */
export interface Schedule {
  /** Resolves when every request has been sent and answered. */
  readonly done: Promise<void>;
  /** Requests sent more than 5 ms after their due time (the generator itself was late). */
  late(): number;
  stop(): void;
}

export function openLoop(
  ratePerSecond: number,
  durationMs: number,
  fire: (i: number, dueAt: number) => Promise<void>,
  /** Ramp linearly from a tenth of the rate to the full rate over this long (a pod taking traffic). */
  rampMs = 0,
): Schedule {
  const rateAt = (elapsed: number) =>
    elapsed >= rampMs ? ratePerSecond : ratePerSecond * (0.1 + (0.9 * elapsed) / rampMs);
  const start = performance.now();
  const pending = new Set<Promise<void>>();
  let i = 0;
  let due = start;
  let late = 0;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let finish!: () => void;
  const sent = new Promise<void>((r) => (finish = r));

  const tick = () => {
    const now = performance.now();
    while (!stopped && due - start < durationMs && due <= now) {
      if (now - due > 5) late++;
      const p = fire(i++, due).finally(() => pending.delete(p));
      pending.add(p);
      due += 1000 / rateAt(due - start);
    }
    if (stopped || due - start >= durationMs) return finish();
    timer = setTimeout(tick, Math.max(0, due - performance.now()));
  };
  tick();
  return {
    done: sent.then(async () => {
      while (pending.size > 0) await Promise.all([...pending]);
    }),
    late: () => late,
    stop() {
      stopped = true;
      clearTimeout(timer);
      finish();
    },
  };
}

/** Latencies in ms, kept whole (a 10-minute run at 125 rps is 75 000 numbers). */
export class Latencies {
  private values: number[] = [];

  add(ms: number): void {
    this.values.push(ms);
  }

  get count(): number {
    return this.values.length;
  }

  percentile(p: number): number {
    if (this.values.length === 0) return NaN;
    const sorted = Float64Array.from(this.values).sort();
    return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
  }
}
