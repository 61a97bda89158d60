import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/clock.js';
import { KeyStore } from '../../../src/sts/key-store.js';

const MIN = 60_000;

function store(clock: ManualClock) {
  // Rotate hourly, announce 10 min ahead, keep retired keys 15 min.
  return new KeyStore({
    clock,
    rotateEverySeconds: 3600,
    publishAheadSeconds: 600,
    retainSeconds: 900,
  });
}
const kids = (s: KeyStore) => s.jwks().keys.map((k) => k.kid);

describe('KeyStore', () => {
  it('signs with one key until the rotation is due', () => {
    const clock = new ManualClock();
    const s = store(clock);
    const first = s.signingKey().kid;
    clock.advance(49 * MIN);
    expect(s.signingKey().kid).toBe(first);
    expect(kids(s)).toEqual([first]);
  });

  it('announces the next key before it signs, then signs with exactly that key', () => {
    const clock = new ManualClock();
    const s = store(clock);
    const first = s.signingKey().kid;
    clock.advance(50 * MIN);
    const announced = kids(s).filter((k) => k !== first);
    expect(announced).toHaveLength(1);
    expect(s.signingKey().kid).toBe(first);
    clock.advance(10 * MIN);
    expect(s.signingKey().kid).toBe(announced[0]);
  });

  it('keeps a retired key published for retainSeconds, then drops it', () => {
    const clock = new ManualClock();
    const s = store(clock);
    const first = s.signingKey().kid;
    clock.advance(60 * MIN);
    const second = s.signingKey().kid;
    clock.advance(15 * MIN - 1);
    expect(kids(s)).toEqual([second, first]);
    expect(s.publicKey(first)).toBeDefined();
    clock.advance(1);
    expect(kids(s)).toEqual([second]);
    expect(s.publicKey(first)).toBeUndefined();
  });

  it('after a long idle period rotates once and retires the old key from now', () => {
    const clock = new ManualClock();
    const s = store(clock);
    const first = s.signingKey().kid;
    clock.advance(30 * 24 * 60 * MIN);
    const next = s.signingKey().kid;
    expect(next).not.toBe(first);
    expect(kids(s)).toEqual([next, first]); // tokens signed just before idle may still be valid
    clock.advance(59 * MIN);
    expect(s.signingKey().kid).toBe(next);
  });

  it('publishes public parameters only, with a thumbprint kid', () => {
    const s = store(new ManualClock());
    const [jwk] = s.jwks().keys;
    expect(Object.keys(jwk!).sort()).toEqual(['alg', 'crv', 'kid', 'kty', 'use', 'x', 'y']);
    expect(jwk!.kid).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('hands out copies, so a caller cannot alter the published keys', () => {
    const s = store(new ManualClock());
    s.jwks().keys[0]!.kid = 'tampered';
    expect(kids(s)[0]).not.toBe('tampered');
  });
});
