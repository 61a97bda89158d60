import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../helpers/manual-time.js';
import { KeyStore } from '../../../src/token-exchange/key-store.js';

const MIN = 60_000;

// Rotate hourly, announce 10 min ahead, keep retired keys 15 min.
const opts = (clock: ManualClock) => ({
  clock,
  rotateEverySeconds: 3600,
  publishAheadSeconds: 600,
  retainSeconds: 900,
});
const store = (clock: ManualClock) => new KeyStore(opts(clock));
const kids = (s: KeyStore) => s.jwks().keys.map((k) => k.kid!);

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
    clock.advance(50 * MIN);
    s.jwks(); // the next key is announced here
    clock.advance(10 * MIN);
    const second = s.signingKey().kid;
    expect(second).not.toBe(first);
    clock.advance(15 * MIN - 1);
    expect(kids(s)).toEqual([second, first]);
    expect(s.publicKey(first)).toBeDefined();
    clock.advance(1);
    expect(kids(s)).toEqual([second]);
    expect(s.publicKey(first)).toBeUndefined();
  });

  // Finding 8: after an idle period the rotation used to sign at once with a key no JWKS had
  // ever listed, so every verifier refused its tokens until it refetched.
  it('after a long idle period announces the next key and signs with it only a window later', () => {
    const clock = new ManualClock();
    const s = store(clock);
    const first = s.signingKey().kid;
    clock.advance(30 * 24 * 60 * MIN);
    expect(s.signingKey().kid).toBe(first);
    const next = kids(s).find((k) => k !== first)!;
    expect(kids(s)).toEqual([next, first]);
    clock.advance(10 * MIN - 1);
    expect(s.signingKey().kid).toBe(first);
    clock.advance(1);
    expect(s.signingKey().kid).toBe(next);
    expect(kids(s)).toEqual([next, first]); // tokens signed just before still verify
    clock.advance(59 * MIN);
    expect(s.signingKey().kid).toBe(next);
  });

  it('counts the window from when the key was first listed, not from when it was planned', () => {
    const clock = new ManualClock();
    const s = store(clock);
    const first = s.signingKey().kid;
    clock.advance(58 * MIN); // first look inside the window: 2 minutes before the rotation is due
    const next = kids(s).find((k) => k !== first)!;
    clock.advance(2 * MIN);
    expect(s.signingKey().kid).toBe(first);
    clock.advance(8 * MIN);
    expect(s.signingKey().kid).toBe(next);
  });

  it('never signs with a key listed for less than publishAheadSeconds (generated schedules)', () => {
    const AHEAD = 10 * MIN;
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 3 * 60 * MIN }), { minLength: 1, maxLength: 40 }),
        (gaps) => {
          const clock = new ManualClock();
          const s = store(clock);
          const firstListed = new Map<string, number>();
          const initial = s.signingKey().kid;
          let current = initial;
          let since = clock.now();
          const look = () => {
            for (const kid of kids(s)) if (!firstListed.has(kid)) firstListed.set(kid, clock.now());
            const signing = s.signingKey().kid;
            if (signing !== current) {
              expect(clock.now() - firstListed.get(signing)!).toBeGreaterThanOrEqual(AHEAD);
              current = signing;
              since = clock.now();
            }
            // Liveness: rotation waits at most for the look that announces the next key and the
            // look after its window (each at most one gap of 3 h late).
            expect(clock.now() - since).toBeLessThanOrEqual(60 * MIN + 2 * 3 * 60 * MIN);
          };
          look();
          for (const gap of gaps) {
            clock.advance(gap);
            look();
          }
          return initial !== undefined;
        },
      ),
      { numRuns: 300 },
    );
  });

  it('restores the publication time of an announced key, and counts it from the restore when unknown', () => {
    const clock = new ManualClock();
    const s = store(clock);
    s.signingKey();
    clock.advance(55 * MIN);
    const state = s.exportState();
    const next = state.next!;
    expect(next.publishedAt).toBe(clock.now());
    clock.advance(5 * MIN);
    const restored = new KeyStore({ ...opts(clock), state });
    clock.advance(5 * MIN);
    expect(restored.signingKey().kid).toBe(next.privateJwk.kid!);
    const older = { privateJwk: next.privateJwk, activeFrom: next.activeFrom };
    const fromOldFile = new KeyStore({ ...opts(clock), state: { ...state, next: older } });
    expect(fromOldFile.signingKey().kid).toBe(state.active.privateJwk.kid!);
    clock.advance(10 * MIN);
    expect(fromOldFile.signingKey().kid).toBe(next.privateJwk.kid!);
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
