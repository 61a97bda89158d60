/** Latency summary in milliseconds. */
export interface LatencySummary {
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly max: number;
  readonly mean: number;
}

/** Nearest-rank percentiles over `count` samples (microseconds) in `values`; sorts in place. */
export function summarizeMicros(values: Float64Array, count: number): LatencySummary {
  if (count === 0) return { p50: NaN, p90: NaN, p99: NaN, max: NaN, mean: NaN };
  const sorted = values.subarray(0, count).sort();
  const rank = (p: number) => sorted[Math.min(count - 1, Math.ceil((p / 100) * count) - 1)]! / 1000;
  let sum = 0;
  for (let i = 0; i < count; i++) sum += sorted[i]!;
  return {
    p50: rank(50),
    p90: rank(90),
    p99: rank(99),
    max: sorted[count - 1]! / 1000,
    mean: sum / count / 1000,
  };
}

/** A growable Float64Array of samples (no per-sample allocation on the hot path). */
export class SampleBuffer {
  private data = new Float64Array(1 << 20);
  private n = 0;

  push(value: number): void {
    if (this.n === this.data.length) {
      const bigger = new Float64Array(this.data.length * 2);
      bigger.set(this.data);
      this.data = bigger;
    }
    this.data[this.n++] = value;
  }

  get count(): number {
    return this.n;
  }

  summary(): LatencySummary {
    return summarizeMicros(this.data, this.n);
  }
}
