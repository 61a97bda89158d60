import { describe, expect, it } from 'vitest';
import { ManualClock, ManualTimers } from '../../helpers/manual-time.js';
import {
  DelegatedTokenCache,
  type DelegatedCacheSettings,
  type DelegatedKey,
} from '../../../src/tokens/delegated-token-cache.js';
import type { IssuedToken } from '../../../src/tokens/token-client.js';
import { TokenRequestError } from '../../../src/tokens/token-errors.js';

const S1: DelegatedKey = { audience: 'vmcontroller', sagaId: 'saga-1' };
const S2: DelegatedKey = { audience: 'vmcontroller', sagaId: 'saga-2' };
const SETTINGS: DelegatedCacheSettings = {
  maxEntries: 100,
  idleMs: 600_000,
  refusalTtlMs: 5_000,
  refreshAt: 0.5,
  jitter: 0,
  safetyMarginMs: 30_000,
  minBackoffMs: 1_000,
  maxBackoffMs: 8_000,
};
const TTL = 300_000;

type Answer = 'ok' | 'down' | 'refused' | 'server_error' | 'hang';

/** A fake token endpoint per saga: answers by the current mode, counts calls, can be held open. */
function harness(settings: Partial<DelegatedCacheSettings> = {}) {
  const clock = new ManualClock();
  const timers = new ManualTimers(clock);
  const state = {
    mode: 'ok' as Answer,
    calls: [] as string[],
    /** A saga expiry (epoch ms) that caps every token's lifetime. */
    sagaExpiresAt: Infinity,
    release: undefined as (() => void) | undefined,
  };
  const events: string[] = [];
  const fetch = async (key: DelegatedKey): Promise<IssuedToken> => {
    state.calls.push(key.sagaId);
    const issuedAtMs = clock.now();
    if (state.mode === 'hang') await new Promise<void>((r) => (state.release = r));
    if (state.mode === 'down') throw new TokenRequestError('transport', 'connect ECONNREFUSED');
    if (state.mode === 'server_error') {
      throw new TokenRequestError(
        'refused',
        'token-exchange refused (server_error)',
        'server_error',
      );
    }
    if (state.mode === 'refused') {
      throw new TokenRequestError('refused', 'not your saga', 'invalid_request');
    }
    const expiresAtMs = Math.min(issuedAtMs + TTL, state.sagaExpiresAt);
    return { accessToken: `${key.sagaId}#${state.calls.length}`, issuedAtMs, expiresAtMs };
  };
  const cache = new DelegatedTokenCache({
    fetch,
    clock,
    timers,
    random: () => 0.5,
    settings: { ...SETTINGS, ...settings },
    events: {
      looked: (_a, r) => events.push(`lookup:${r}`),
      exchanged: (_k, r) => events.push(`exchange:${r}`),
      refreshed: (_a, r) => events.push(`refresh:${r}`),
      evicted: (r) => events.push(`evict:${r}`),
    },
  });
  return { clock, timers, state, events, cache };
}

describe('DelegatedTokenCache', () => {
  it('fetches once per (audience, saga), then answers synchronously', async () => {
    const { cache, state, events } = harness();
    const first = cache.get(S1);
    expect(first).toBeInstanceOf(Promise);
    expect(await first).toBe('saga-1#1');
    expect(cache.get(S1)).toBe('saga-1#1');
    expect(await cache.get(S2)).toBe('saga-2#2');
    expect(cache.get({ audience: 'billing', sagaId: 'saga-1' })).toBeInstanceOf(Promise);
    expect(state.calls).toEqual(['saga-1', 'saga-2', 'saga-1']);
    expect(events.slice(0, 3)).toEqual(['lookup:miss', 'exchange:success', 'lookup:hit']);
  });

  it('shares one exchange among concurrent requests of the same saga (single flight)', async () => {
    const { cache, state } = harness();
    state.mode = 'hang';
    const waiting = [cache.get(S1), cache.get(S1), cache.get(S1)];
    expect(state.calls).toEqual(['saga-1']);
    state.mode = 'ok';
    state.release!();
    expect(await Promise.all(waiting)).toEqual(['saga-1#1', 'saga-1#1', 'saga-1#1']);
  });

  it('refreshes a used entry in the background at half its lifetime, nobody waiting', async () => {
    const { cache, state, timers, events } = harness();
    await cache.get(S1);
    await timers.advance(TTL / 2 - 1);
    expect(cache.get(S1)).toBe('saga-1#1');
    await timers.advance(1);
    expect(state.calls).toHaveLength(2);
    expect(events).toContain('refresh:success');
    expect(cache.get(S1)).toBe('saga-1#2');
  });

  it('never serves a token past exp minus the margin, and never past its saga expiry', async () => {
    const { cache, state, clock, timers } = harness();
    state.sagaExpiresAt = clock.now() + 100_000; // the saga ends before the token TTL would
    await cache.get(S1);
    state.mode = 'down'; // token-exchange away: refreshes fail, the cached token is served…
    await timers.advance(50_000);
    expect(cache.get(S1)).toBe('saga-1#1');
    // …until exp − 30 s (the margin), then a request waits for an exchange that fails.
    await timers.advance(20_000);
    await expect(cache.get(S1)).rejects.toMatchObject({ kind: 'transport' });
  });

  it('uses a token cut short by its saga for half its life instead of fetching on every request', async () => {
    const { cache, state, clock } = harness();
    state.sagaExpiresAt = clock.now() + 20_000; // shorter than the 30 s margin
    await cache.get(S1);
    clock.advance(9_000);
    expect(cache.get(S1)).toBe('saga-1#1');
    expect(state.calls).toHaveLength(1);
    clock.advance(1_000);
    expect(cache.get(S1)).toBeInstanceOf(Promise);
  });

  it('remembers a refusal briefly, then asks again', async () => {
    const { cache, state, clock, events } = harness();
    state.mode = 'refused';
    await expect(cache.get(S1)).rejects.toMatchObject({ oauthError: 'invalid_request' });
    expect(() => cache.get(S1)).toThrow(/not your saga/);
    expect(() => cache.get(S1)).toThrow(TokenRequestError);
    expect(state.calls).toHaveLength(1);
    expect(events).toContain('lookup:refused');
    clock.advance(5_000);
    state.mode = 'ok';
    expect(await cache.get(S1)).toBe('saga-1#2');
  });

  it('ends a cached token as soon as token-exchange refuses the saga on refresh (revoked)', async () => {
    const { cache, state, timers } = harness();
    await cache.get(S1);
    state.mode = 'refused';
    await timers.advance(TTL / 2);
    expect(() => cache.get(S1)).toThrow(/not your saga/);
  });

  it('stops background retries once a request hears the saga refused', async () => {
    const { cache, state, timers } = harness({ minBackoffMs: 200_000, maxBackoffMs: 200_000 });
    await cache.get(S1);
    state.mode = 'down';
    await timers.advance(TTL / 2); // the refresh fails; a retry waits far ahead
    expect(timers.size).toBe(1);
    await timers.advance(TTL / 2 - 20_000); // past exp − margin: a request must ask again…
    state.mode = 'refused';
    await expect(cache.get(S1)).rejects.toMatchObject({ oauthError: 'invalid_request' });
    expect(timers.size).toBe(0); // …and the pending retry is gone with the delegation
  });

  it('never remembers outages or server_error as refusals', async () => {
    const { cache, state } = harness();
    state.mode = 'down';
    await expect(cache.get(S1)).rejects.toMatchObject({ kind: 'transport' });
    state.mode = 'server_error';
    await expect(cache.get(S1)).rejects.toMatchObject({ oauthError: 'server_error' });
    state.mode = 'ok';
    expect(await cache.get(S1)).toBe('saga-1#3');
  });

  it('retries a failed refresh with backoff while the cached token still serves', async () => {
    const { cache, state, timers, events } = harness();
    await cache.get(S1);
    state.mode = 'down';
    await timers.advance(TTL / 2);
    expect(events).toContain('refresh:failure');
    state.mode = 'ok';
    await timers.advance(SETTINGS.maxBackoffMs);
    expect(cache.get(S1)).toBe(`saga-1#${state.calls.length}`);
    expect(events.filter((e) => e === 'refresh:success')).toHaveLength(1);
  });

  it('lets an idle saga age out: no refresh for it, and its entry is dropped', async () => {
    const { cache, state, timers, events } = harness({ idleMs: 60_000 });
    await cache.get(S1);
    // Unused from here on: the refresh at half the lifetime finds it idle and drops it.
    await timers.advance(TTL);
    expect(state.calls).toHaveLength(1);
    expect(events).toContain('evict:idle');
    expect(cache.size()).toBe(0);
    expect(timers.size).toBe(0);
  });

  it('keeps a saga in use alive past idleMs', async () => {
    const { cache, state, timers } = harness({ idleMs: 60_000 });
    await cache.get(S1);
    for (let i = 0; i < 5; i++) {
      await timers.advance(50_000);
      expect(typeof cache.get(S1)).toBe('string');
    }
    expect(state.calls.length).toBeGreaterThan(1);
  });

  it('is bounded: the least recently used saga goes first, with its timer', async () => {
    const { cache, timers, events } = harness({ maxEntries: 2 });
    await cache.get(S1);
    await cache.get(S2);
    cache.get(S1); // S2 is now the least recently used
    await cache.get({ audience: 'vmcontroller', sagaId: 'saga-3' });
    expect(cache.size()).toBe(2);
    expect(events).toContain('evict:capacity');
    expect(timers.size).toBe(2); // S2's refresh went with it
    expect(typeof cache.get(S1)).toBe('string');
    expect(cache.get(S2)).toBeInstanceOf(Promise);
  });

  it('stops refreshing after stop()', async () => {
    const { cache, state, timers } = harness();
    await cache.get(S1);
    cache.stop();
    await timers.advance(TTL);
    expect(state.calls).toHaveLength(1);
  });
});
