import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../helpers/manual-time.js';
import { SidecarMetrics } from '../../../src/metrics/sidecar.js';
import {
  CachedPermissionChecker,
  DecisionCache,
  decisionKey,
} from '../../../src/spicedb/decision-cache.js';
import { SpicedbFailure } from '../../../src/spicedb/failure.js';
import type { CheckSpec, PermissionChecker } from '../../../src/spicedb/permission-checker.js';

const spec = (subjectId = 'alice', extra: Partial<CheckSpec> = {}): CheckSpec => ({
  resourceType: 'cloud',
  resourceId: 'cl0',
  permission: 'create_saga',
  subjectType: 'user',
  subjectId,
  ...extra,
});

/** A checker answering from a table, counting calls; `fail` makes it throw. */
function fakeChecker(answers: Record<string, boolean>) {
  const state = { calls: 0, fail: false, gate: undefined as Promise<void> | undefined };
  const checker: PermissionChecker = {
    async check(s) {
      state.calls++;
      if (state.gate) await state.gate;
      if (state.fail) throw new SpicedbFailure('unreachable', 'down');
      return answers[s.subjectId] ?? false;
    },
  };
  return { checker, state };
}

const cacheCount = (m: SidecarMetrics, result: string) =>
  m.registry
    .getSingleMetric('jwtexchange_spicedb_decision_cache_total')!
    .get()
    .then((v) => v.values.find((x) => x.labels.result === result)?.value ?? 0);

describe('DecisionCache', () => {
  it('keys on the whole relationship', () => {
    expect(decisionKey(spec())).toBe('cloud:cl0#create_saga@user:alice');
  });

  it('serves an entry until its ttl on the injected clock, then forgets it', () => {
    const clock = new ManualClock();
    const cache = new DecisionCache(10, 2_000, clock);
    cache.set('k', true);
    clock.advance(2_000);
    expect(cache.get('k')).toBe(true);
    clock.advance(1); // older than the ttl (lru-cache's boundary: age > ttl)
    expect(cache.get('k')).toBeUndefined();
  });

  it('is bounded: the least recently used entry goes first', () => {
    const cache = new DecisionCache(2, 60_000, new ManualClock());
    cache.set('a', true);
    cache.set('b', false);
    cache.get('a');
    cache.set('c', true);
    expect(cache.get('b')).toBeUndefined();
    expect(cache.get('a')).toBe(true);
    expect(cache.get('c')).toBe(true);
  });

  it('is disabled by ttlMs 0 or maxEntries 0', () => {
    for (const cache of [
      new DecisionCache(10, 0, new ManualClock()),
      new DecisionCache(0, 1000, new ManualClock()),
    ]) {
      cache.set('k', true);
      expect(cache.enabled).toBe(false);
      expect(cache.get('k')).toBeUndefined();
    }
  });
});

describe('CachedPermissionChecker', () => {
  it('caches allows and denies, and counts hits and misses', async () => {
    const metrics = new SidecarMetrics({ defaultMetrics: false });
    const { checker, state } = fakeChecker({ alice: true });
    const cached = new CachedPermissionChecker(
      checker,
      new DecisionCache(10, 2_000, new ManualClock()),
      metrics,
    );
    expect(await cached.check(spec('alice'))).toBe(true);
    expect(await cached.check(spec('alice'))).toBe(true);
    expect(await cached.check(spec('bob'))).toBe(false);
    expect(await cached.check(spec('bob'))).toBe(false);
    expect(state.calls).toBe(2);
    expect(await cacheCount(metrics, 'hit')).toBe(2);
    expect(await cacheCount(metrics, 'miss')).toBe(2);
  });

  it('never caches a failure', async () => {
    const { checker, state } = fakeChecker({ alice: true });
    const cached = new CachedPermissionChecker(
      checker,
      new DecisionCache(10, 2_000, new ManualClock()),
    );
    state.fail = true;
    await expect(cached.check(spec('alice'))).rejects.toThrow(SpicedbFailure);
    state.fail = false;
    expect(await cached.check(spec('alice'))).toBe(true);
    expect(state.calls).toBe(2);
  });

  it('asks SpiceDB again after the ttl', async () => {
    const clock = new ManualClock();
    const { checker, state } = fakeChecker({ alice: true });
    const cached = new CachedPermissionChecker(checker, new DecisionCache(10, 2_000, clock));
    await cached.check(spec('alice'));
    clock.advance(2_001);
    await cached.check(spec('alice'));
    expect(state.calls).toBe(2);
  });

  it('does not answer a request carrying a ZedToken from the cache, but stores its answer', async () => {
    const { checker, state } = fakeChecker({ alice: true });
    const cached = new CachedPermissionChecker(
      checker,
      new DecisionCache(10, 2_000, new ManualClock()),
    );
    await cached.check(spec('alice'));
    await cached.check(spec('alice', { zedToken: 'GhUKEzE3' }));
    expect(state.calls).toBe(2);
    await cached.check(spec('alice'));
    expect(state.calls).toBe(2);
  });

  it('shares one SpiceDB call among identical concurrent checks', async () => {
    const { checker, state } = fakeChecker({ alice: true });
    let release!: () => void;
    state.gate = new Promise((r) => (release = r));
    const cached = new CachedPermissionChecker(
      checker,
      new DecisionCache(10, 2_000, new ManualClock()),
    );
    const all = Promise.all([1, 2, 3].map(() => cached.check(spec('alice'))));
    release();
    expect(await all).toEqual([true, true, true]);
    expect(state.calls).toBe(1);
  });
});
