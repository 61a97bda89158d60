import { Counter, Gauge, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { clusterMetrics } from '../../../src/server/cluster-metrics.js';

function registry(checks: number, extra?: (r: Registry) => void): Registry {
  const r = new Registry();
  new Counter({ name: 'x_checks_total', help: 'checks', registers: [r] }).inc(checks);
  extra?.(r);
  return r;
}

describe('clusterMetrics', () => {
  it("serves the primary's families and every worker's, counters summed", async () => {
    const own = registry(1, (r) =>
      new Gauge({ name: 'x_primary_only', help: 'p', registers: [r] }).set(7),
    );
    const workers = [registry(2), registry(3)];
    const { registry: merged } = clusterMetrics(own, {
      collectMetrics: () => Promise.all(workers.map((w) => w.getMetricsAsJSON())),
    });
    expect(merged.contentType).toBe(own.contentType);
    const text = await merged.metrics();
    expect(text).toMatch(/^x_checks_total 6$/m);
    expect(text).toMatch(/^x_primary_only 7$/m);
  });

  it('serves the primary alone when no worker answers', async () => {
    const { registry: merged } = clusterMetrics(registry(4), {
      collectMetrics: () => Promise.resolve([]),
    });
    expect(await merged.metrics()).toMatch(/^x_checks_total 4$/m);
  });
});
