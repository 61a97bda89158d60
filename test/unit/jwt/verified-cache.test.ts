import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../helpers/manual-time.js';
import { buildIdentity } from '../../../src/jwt/identity.js';
import { identityBytes, KEY_CHARS, VerifiedTokenCache } from '../../../src/jwt/verified-cache.js';

const identity = (clock: ManualClock, ttlSeconds: number, sub = 'alice') =>
  buildIdentity('https://issuer', {
    sub,
    aud: 'gateway',
    exp: Math.floor(clock.now() / 1000) + ttlSeconds,
  });

describe('VerifiedTokenCache', () => {
  it('returns the identity stored for the same token', () => {
    const clock = new ManualClock();
    const cache = new VerifiedTokenCache(10, clock);
    const id = identity(clock, 60);
    cache.set('t1', id);
    expect(cache.get('t1')).toBe(id);
    expect(cache.get('t2')).toBeUndefined();
  });

  it('never returns an identity at or after its exp', () => {
    const clock = new ManualClock();
    const cache = new VerifiedTokenCache(10, clock);
    cache.set('t1', identity(clock, 60));
    clock.advance(59_999);
    expect(cache.get('t1')).toBeDefined();
    clock.advance(1);
    expect(cache.get('t1')).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('does not store a token that has already expired', () => {
    const clock = new ManualClock();
    const cache = new VerifiedTokenCache(10, clock);
    cache.set('old', identity(clock, -1));
    cache.set('now', identity(clock, 0));
    expect(cache.size).toBe(0);
  });

  it('is bounded: the least recently used token is evicted', () => {
    const clock = new ManualClock();
    const cache = new VerifiedTokenCache(2, clock);
    cache.set('a', identity(clock, 60, 'a'));
    cache.set('b', identity(clock, 60, 'b'));
    cache.get('a');
    cache.set('c', identity(clock, 60, 'c'));
    expect(cache.size).toBe(2);
    expect(cache.get('b')).toBeUndefined();
    expect(cache.get('a')?.subject).toBe('a');
    expect(cache.get('c')?.subject).toBe('c');
  });

  it('compares the whole token: one that ends like a cached one is a miss, then takes its place', () => {
    const clock = new ManualClock();
    const cache = new VerifiedTokenCache(10, clock);
    const tail = '.'.concat('s'.repeat(KEY_CHARS));
    const alice = identity(clock, 60, 'alice');
    const bob = identity(clock, 60, 'bob');
    cache.set(`header.alice${tail}`, alice);
    expect(cache.get(`header.bob${tail}`)).toBeUndefined();
    // A token shorter than the key, or a prefix of the cached one, is no hit either.
    expect(cache.get(tail.slice(1))).toBeUndefined();
    expect(cache.get(`alice${tail}`)).toBeUndefined();
    expect(cache.get(`header.alice${tail}`)).toBe(alice);
    cache.set(`header.bob${tail}`, bob);
    expect(cache.size).toBe(1);
    expect(cache.get(`header.bob${tail}`)).toBe(bob);
    expect(cache.get(`header.alice${tail}`)).toBeUndefined();
  });

  it('caches nothing when its size is 0', () => {
    const clock = new ManualClock();
    const cache = new VerifiedTokenCache(0, clock);
    cache.set('a', identity(clock, 60));
    expect(cache.get('a')).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('is bounded in bytes as well as entries: large tokens evict sooner', () => {
    const clock = new ManualClock();
    const maxBytes = 100_000;
    const cache = new VerifiedTokenCache(10_000, clock, maxBytes);
    const big = 'x'.repeat(8_000);
    for (let i = 0; i < 50; i++) cache.set(`${big}${i}`, identity(clock, 60, `user-${i}`));
    expect(cache.bytes).toBeLessThanOrEqual(maxBytes);
    expect(cache.size).toBeLessThan(50);
    expect(cache.size).toBeGreaterThan(5);
    // The most recent entries are the ones kept.
    expect(cache.get(`${big}49`)).toBeDefined();
    expect(cache.get(`${big}0`)).toBeUndefined();
  });

  it('estimates an entry from its token and the identity headers it carries', () => {
    const clock = new ManualClock();
    const id = identity(clock, 60);
    const headerChars = id.headers.reduce((n, [k, v]) => n + k.length + v.length, 0);
    expect(identityBytes('t'.repeat(700), id)).toBe(768 + 700 + headerChars);
  });
});
