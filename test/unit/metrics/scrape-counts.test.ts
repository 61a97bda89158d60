import { Counter, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { ScrapeCounts } from '../../../src/metrics/scrape-counts.js';

function counterWithCounts() {
  const registry = new Registry();
  const counts: { value?: ScrapeCounts<'result'> } = {};
  const counter = new Counter({
    name: 'lookups_total',
    help: 'test',
    labelNames: ['result'],
    registers: [registry],
    collect: () => counts.value!.flush(),
  });
  counts.value = new ScrapeCounts(counter);
  return { registry, counter, counts: counts.value };
}

const valueOf = async (counter: Counter<'result'>, result: string) =>
  (await counter.get()).values.find((v) => v.labels.result === result)?.value;

describe('ScrapeCounts', () => {
  it('hands each child’s count to the counter when it is scraped, and only then', async () => {
    const { registry, counter, counts } = counterWithCounts();
    const hit = counts.child({ result: 'hit' });
    const miss = counts.child({ result: 'miss' });
    hit.inc();
    hit.inc();
    miss.inc();
    // Nothing reached prom-client yet: the counts are plain numbers until a scrape.
    expect((counter as unknown as { hashMap: object }).hashMap).toEqual({});
    const text = await registry.metrics();
    expect(text).toContain('lookups_total{result="hit"} 2');
    expect(text).toContain('lookups_total{result="miss"} 1');
  });

  it('adds only what was counted since the last scrape (the counter stays monotonic)', async () => {
    const { counter, counts } = counterWithCounts();
    const hit = counts.child({ result: 'hit' });
    hit.inc();
    expect(await valueOf(counter, 'hit')).toBe(1);
    expect(await valueOf(counter, 'hit')).toBe(1);
    hit.inc();
    hit.inc();
    expect(await valueOf(counter, 'hit')).toBe(3);
  });

  it('leaves a label set that never counted out of the scrape', async () => {
    const { registry, counts } = counterWithCounts();
    counts.child({ result: 'miss' });
    expect(await registry.metrics()).not.toContain('result="miss"');
  });
});
