import type { Clock, Timers } from '../../src/clock.js';

/** A clock tests move by hand. */
export class ManualClock implements Clock {
  constructor(private current = Date.UTC(2026, 0, 1)) {}

  now(): number {
    return this.current;
  }

  advance(ms: number): void {
    this.current += ms;
  }

  set(ms: number): void {
    this.current = ms;
  }
}

/** Timers driven by a ManualClock: `advance` moves time and runs what came due, in order. */
export class ManualTimers implements Timers {
  private next = 1;
  private readonly pending = new Map<number, { at: number; fn: () => void }>();

  constructor(readonly clock: ManualClock) {}

  set(fn: () => void, delayMs: number): number {
    const id = this.next++;
    this.pending.set(id, { at: this.clock.now() + Math.max(0, delayMs), fn });
    return id;
  }

  clear(handle: unknown): void {
    this.pending.delete(handle as number);
  }

  /** Number of timers waiting. */
  get size(): number {
    return this.pending.size;
  }

  /** When the next timer is due (Infinity when none). */
  nextAt(): number {
    let min = Infinity;
    for (const t of this.pending.values()) min = Math.min(min, t.at);
    return min;
  }

  /** Moves the clock forward by ms, running each timer at its due time; awaits their promises. */
  async advance(ms: number): Promise<void> {
    const end = this.clock.now() + ms;
    for (;;) {
      const due = [...this.pending.entries()]
        .filter(([, t]) => t.at <= end)
        .sort((a, b) => a[1].at - b[1].at)[0];
      if (!due) break;
      this.pending.delete(due[0]);
      this.clock.set(Math.max(this.clock.now(), due[1].at));
      due[1].fn();
      await flush();
    }
    this.clock.set(end);
    await flush();
  }
}

/** Lets pending promise callbacks run (a few macrotask turns). */
export async function flush(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
}
