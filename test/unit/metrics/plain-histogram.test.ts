import { AggregatorRegistry, Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { PlainHistogram } from '../../../src/metrics/plain-histogram.js';
import { CHECK_BUCKETS } from '../../../src/metrics/registry.js';

const NAME = 'x_duration_seconds';
const HELP = 'Some duration.';

/** The same observations into prom-client's Histogram and ours, each in a registry of its own. */
function both(observations: readonly (readonly [string, number])[]) {
  const theirs = new Registry();
  const ours = new Registry();
  const reference = new Histogram({
    name: NAME,
    help: HELP,
    labelNames: ['direction'],
    buckets: CHECK_BUCKETS,
    registers: [theirs],
  });
  const plain = new PlainHistogram({
    name: NAME,
    help: HELP,
    labelNames: ['direction'],
    buckets: CHECK_BUCKETS,
    registers: [ours],
  });
  const children = new Map<string, ReturnType<typeof plain.child>>();
  for (const [direction, value] of observations) {
    reference.observe({ direction }, value);
    let child = children.get(direction);
    if (!child) children.set(direction, (child = plain.child({ direction })));
    child.observe(value);
  }
  return { theirs, ours, plain, reference };
}

// Values on, between, below and above the bounds, in two label sets.
const OBSERVATIONS = [
  ['inbound', 0.00002],
  ['inbound', 0.00005],
  ['inbound', 0.0002],
  ['outbound', 0.003],
  ['inbound', 0.7],
  ['inbound', 1],
  ['inbound', 4.5],
  ['outbound', 0.00025],
  ['inbound', 0],
] as const;

describe('PlainHistogram', () => {
  it("exposes what prom-client's Histogram exposes for the same observations", async () => {
    const { theirs, ours } = both(OBSERVATIONS);
    const text = await ours.metrics();
    expect(text).toBe(await theirs.metrics());
    expect(text).toContain(`${NAME}_bucket{le="0.00005",direction="inbound"} 3`);
    expect(text).toContain(`${NAME}_bucket{le="+Inf",direction="inbound"} 7`);
    expect(text).toContain(`${NAME}_count{direction="outbound"} 2`);
  });

  it('sums across workers as prom-client does (the primary aggregates their JSON)', async () => {
    const a = both(OBSERVATIONS);
    const b = both(OBSERVATIONS.slice(0, 4));
    const sum = async (regs: Registry[]) =>
      AggregatorRegistry.aggregate(
        await Promise.all(regs.map((r) => r.getMetricsAsJSON())),
      ).metrics();
    expect(await sum([a.ours, b.ours])).toBe(await sum([a.theirs, b.theirs]));
    expect(await sum([a.ours, b.ours])).toContain(`${NAME}_count{direction="inbound"} 10`);
  });

  it('exposes nothing before an observation, and nothing after a reset', async () => {
    const { ours, theirs } = both([]);
    new PlainHistogram({
      name: 'y_seconds',
      help: HELP,
      labelNames: ['direction'],
      buckets: CHECK_BUCKETS,
      registers: [ours],
    }).child({ direction: 'inbound' });
    expect(await ours.getSingleMetricAsString(NAME)).toBe(
      await theirs.getSingleMetricAsString(NAME),
    );
    expect(await ours.getSingleMetricAsString('y_seconds')).not.toContain('y_seconds_count');
    const after = both(OBSERVATIONS);
    after.ours.resetMetrics();
    after.theirs.resetMetrics();
    expect(await after.ours.metrics()).toBe(await after.theirs.metrics());
  });
});
