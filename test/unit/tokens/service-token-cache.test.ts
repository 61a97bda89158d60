import { describe, expect, it } from 'vitest';
import { ManualClock, ManualTimers } from '../../helpers/manual-time.js';
import {
  ServiceTokenCache,
  type CacheSettings,
  type TokenKey,
} from '../../../src/tokens/service-token-cache.js';
import type { IssuedToken } from '../../../src/tokens/token-client.js';
import { TokenRequestError } from '../../../src/tokens/token-errors.js';

const KEY: TokenKey = { audience: 'vmcontroller', scope: '' };
const SETTINGS: CacheSettings = {
  refreshAt: 0.5,
  jitter: 0.1,
  safetyMarginMs: 30_000,
  minBackoffMs: 1_000,
  maxBackoffMs: 8_000,
  refusalTtlMs: 20_000,
};
const TTL = 600_000;

type Answer = 'ok' | 'down' | 'refused' | 'hang';

/** A fake token endpoint: answers by the current mode, counts calls, can be held open. */
function harness(settings: Partial<CacheSettings> = {}, random = () => 0.5) {
  const clock = new ManualClock();
  const timers = new ManualTimers(clock);
  const state = { mode: 'ok' as Answer, calls: 0, release: undefined as (() => void) | undefined };
  const events: string[] = [];
  const fetch = async (): Promise<IssuedToken> => {
    state.calls++;
    const issuedAtMs = clock.now();
    if (state.mode === 'hang') await new Promise<void>((r) => (state.release = r));
    if (state.mode === 'down') throw new TokenRequestError('transport', 'connect ECONNREFUSED');
    if (state.mode === 'refused') throw new TokenRequestError('refused', 'no', 'invalid_target');
    return { accessToken: `t${state.calls}`, issuedAtMs, expiresAtMs: issuedAtMs + TTL };
  };
  const cache = new ServiceTokenCache({
    fetch,
    clock,
    timers,
    random,
    settings: { ...SETTINGS, ...settings },
    events: {
      exchanged: (_a, r) => events.push(`exchange:${r}`),
      refreshed: (_a, r) => events.push(`refresh:${r}`),
      servedStale: () => events.push('stale'),
      waited: () => events.push('wait'),
      shortLived: () => events.push('short'),
    },
  });
  return { clock, timers, state, events, cache };
}

describe('ServiceTokenCache', () => {
  it('waits once on a cold start, then answers synchronously', async () => {
    const { cache, state, events } = harness();
    const first = cache.get(KEY);
    expect(first).toBeInstanceOf(Promise);
    expect(await first).toBe('t1');
    expect(cache.get(KEY)).toBe('t1');
    expect(state.calls).toBe(1);
    expect(events).toEqual(['wait', 'exchange:success']);
  });

  it('shares one exchange among concurrent callers (single flight)', async () => {
    const { cache, state } = harness();
    state.mode = 'hang';
    const waiting = [cache.get(KEY), cache.get(KEY), cache.get(KEY)];
    expect(state.calls).toBe(1);
    state.mode = 'ok';
    state.release!();
    expect(await Promise.all(waiting)).toEqual(['t1', 't1', 't1']);
  });

  it('refreshes in the background at half the lifetime, without making anyone wait', async () => {
    const { cache, state, timers, events, clock } = harness();
    const start = clock.now();
    await cache.prefetch([KEY]);
    expect(timers.nextAt() - start).toBe(TTL / 2);
    await timers.advance(TTL / 2 - 1);
    expect(state.calls).toBe(1);
    await timers.advance(1);
    expect(state.calls).toBe(2);
    expect(cache.get(KEY)).toBe('t2');
    expect(events).not.toContain('wait');
    expect(events).toContain('refresh:success');
  });

  it('keeps the refresh point within ±10% of half the lifetime', async () => {
    for (const [random, expected] of [
      [0, TTL * 0.5 * 0.9],
      [1, TTL * 0.5 * 1.1],
    ] as const) {
      const { cache, timers, clock } = harness({}, () => random);
      const start = clock.now();
      await cache.prefetch([KEY]);
      expect(timers.nextAt() - start).toBeCloseTo(expected, 0);
    }
  });

  it('serves the cached token while token-exchange is down, retrying with backoff, until exp minus the margin', async () => {
    const { cache, state, timers, clock, events } = harness();
    const start = clock.now();
    await cache.prefetch([KEY]);
    state.mode = 'down';
    await timers.advance(TTL / 2); // refresh fails
    expect(state.calls).toBe(2);
    expect(cache.get(KEY)).toBe('t1');
    expect(events).toContain('stale');
    // Backoff: 1 s, 2 s, 4 s, 8 s, 8 s… (random 0.5 → 3/4 of each step).
    const before = state.calls;
    await timers.advance(750);
    expect(state.calls).toBe(before + 1);
    await timers.advance(1_499);
    expect(state.calls).toBe(before + 1);
    await timers.advance(1);
    expect(state.calls).toBe(before + 2);
    // Never past exp minus the margin.
    clock.set(start + TTL - SETTINGS.safetyMarginMs - 1);
    expect(cache.get(KEY)).toBe('t1');
    clock.set(start + TTL - SETTINGS.safetyMarginMs);
    await expect(cache.get(KEY)).rejects.toMatchObject({ kind: 'transport' });
    // token-exchange is back: the next background retry restores it by itself.
    state.mode = 'ok';
    await timers.advance(SETTINGS.maxBackoffMs);
    expect(cache.get(KEY)).toMatch(/^t\d+$/);
  });

  it('remembers a deterministic refusal briefly, but not a transport error', async () => {
    const { cache, state, clock } = harness();
    state.mode = 'refused';
    await expect(cache.get(KEY)).rejects.toMatchObject({ oauthError: 'invalid_target' });
    expect(() => cache.get(KEY)).toThrow(/no/);
    expect(state.calls).toBe(1);
    clock.advance(SETTINGS.refusalTtlMs);
    state.mode = 'down';
    await expect(cache.get(KEY)).rejects.toMatchObject({ kind: 'transport' });
    await expect(cache.get(KEY)).rejects.toMatchObject({ kind: 'transport' });
    expect(state.calls).toBe(3);
  });

  it('never schedules a refresh later than the end of the usable window', async () => {
    const { cache, timers, clock } = harness({ refreshAt: 0.99, safetyMarginMs: 300_000 });
    const start = clock.now();
    await cache.prefetch([KEY]);
    expect(timers.nextAt() - start).toBe(TTL - 300_000);
  });

  it('reports seconds to expiry and stops its timers', async () => {
    const { cache, timers, clock } = harness();
    await cache.prefetch([KEY]);
    clock.advance(100_000);
    expect(cache.expiries()).toEqual([{ audience: 'vmcontroller', scope: '', seconds: 500 }]);
    cache.stop();
    expect(timers.size).toBe(0);
  });

  it('does not loop when tokens do not outlive the safety margin', async () => {
    const { cache, state, timers, events } = harness({ safetyMarginMs: TTL });
    await cache.prefetch([KEY]);
    await timers.advance(10_000);
    // One fetch per backoff floor at most (1 s here), never a tight loop.
    expect(state.calls).toBeLessThanOrEqual(11);
    expect(cache.isWarm(KEY)).toBe(false);
    expect(events.filter((e) => e === 'short').length).toBeGreaterThan(0);
  });
});
