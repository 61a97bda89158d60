import type { LabelValues, Metric, Registry } from 'prom-client';

/** One labelled series of a PlainHistogram. */
export interface PlainObserver {
  observe(value: number): void;
}

/** What a registry reads of a metric: the shape of prom-client's own `get()`. */
export interface HistogramValues {
  readonly name: string;
  readonly help: string;
  readonly type: 'histogram';
  readonly aggregator: 'sum';
  readonly values: { metricName: string; labels: Record<string, string | number>; value: number }[];
}

interface Series {
  readonly labels: Record<string, string>;
  /** Observations per bucket, not cumulative; the last slot counts those above every bound. */
  readonly counts: Float64Array;
  sum: number;
  count: number;
}

/**
 * A histogram for code that observes on every check. prom-client's Histogram hashes and validates
 * its labels on each observe (about a microsecond, the largest metric cost of a warm check); a
 * child of this one adds to plain numbers. What a scrape reads (`get()`, which the registry and
 * the workers' aggregation both use) is what prom-client's Histogram gives for the same
 * observations: a test compares the two. Label sets are fixed when a child is made, from closed
 * sets like every label of ours. No exemplars, no timers: this metric needs neither.
 */
export class PlainHistogram<L extends string> {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private readonly series: Series[] = [];
  private readonly byValue = new Map<string, PlainObserver>();

  readonly name: string;
  readonly help: string;
  readonly labelNames: readonly L[];
  private readonly upperBounds: readonly number[];

  /** The options of prom-client's Histogram that this one has. */
  constructor(options: {
    name: string;
    help: string;
    labelNames: readonly L[];
    buckets: readonly number[];
    registers: readonly Registry[];
  }) {
    this.name = options.name;
    this.help = options.help;
    this.labelNames = options.labelNames;
    this.upperBounds = options.buckets;
    // The registry takes any object that reads like a metric (name, get, reset).
    for (const r of options.registers) r.registerMetric(this as unknown as Metric);
  }

  child(labels: LabelValues<L>): PlainObserver {
    const s: Series = {
      labels: { ...(labels as Record<string, string>) },
      counts: new Float64Array(this.upperBounds.length + 1),
      sum: 0,
      count: 0,
    };
    this.series.push(s);
    const bounds = this.upperBounds;
    return {
      observe(value: number): void {
        let i = 0;
        while (i < bounds.length && value > bounds[i]!) i++;
        s.counts[i]!++;
        s.sum += value;
        s.count++;
      },
    };
  }

  /** The child of a one-label histogram for that label's value, made on first use. */
  labelled(value: string): PlainObserver {
    let child = this.byValue.get(value);
    if (!child) {
      child = this.child({ [this.labelNames[0]!]: value } as LabelValues<L>);
      this.byValue.set(value, child);
    }
    return child;
  }

  get(): HistogramValues {
    const values: HistogramValues['values'] = [];
    const bucket = `${this.name}_bucket`;
    for (const s of this.series) {
      // prom-client exports a label set once it has been observed (and none after a reset).
      if (s.count === 0) continue;
      let cumulative = 0;
      this.upperBounds.forEach((le, i) => {
        cumulative += s.counts[i]!;
        values.push({ metricName: bucket, labels: { le, ...s.labels }, value: cumulative });
      });
      values.push(
        { metricName: bucket, labels: { le: '+Inf', ...s.labels }, value: s.count },
        { metricName: `${this.name}_sum`, labels: { ...s.labels }, value: s.sum },
        { metricName: `${this.name}_count`, labels: { ...s.labels }, value: s.count },
      );
    }
    return {
      name: this.name,
      help: this.help,
      type: this.type,
      aggregator: this.aggregator,
      values,
    };
  }

  reset(): void {
    for (const s of this.series) {
      s.counts.fill(0);
      s.sum = 0;
      s.count = 0;
    }
  }
}
