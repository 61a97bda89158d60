import type { Counter, LabelValues } from 'prom-client';

/** One labelled count of the hot path: a plain number until the counter is scraped. */
export interface ScrapeCount {
  inc(): void;
}

/**
 * A counter's labelled children for code that counts on every check. prom-client's own child
 * hashes and validates its labels on each inc(); these add to a plain number, and `flush()`
 * (the counter's collect hook, run when it is scraped or read) hands the sums to the counter.
 * The label sets are fixed when a child is made, from closed sets like every label of ours.
 */
export class ScrapeCounts<L extends string> {
  private readonly children: { readonly labels: LabelValues<L>; n: number }[] = [];

  constructor(private readonly counter: Counter<L>) {}

  child(labels: LabelValues<L>): ScrapeCount {
    const c = { labels, n: 0 };
    this.children.push(c);
    return {
      inc() {
        c.n++;
      },
    };
  }

  flush(): void {
    for (const c of this.children) {
      if (c.n === 0) continue;
      this.counter.inc(c.labels, c.n);
      c.n = 0;
    }
  }
}
