import { errors as joseErrors, type FlattenedJWSInput, type JSONWebKeySet } from 'jose';
import { beforeEach, describe, expect, it } from 'vitest';
import { ManualClock, ManualTimers } from '../../helpers/manual-time.js';
import { JwtxError } from '../../../src/errors.js';
import { JwksSource } from '../../../src/jwt/jwks-source.js';
import { jwks, newKey, type ForgeKey } from '../../helpers/jwt-forge.js';

const REFRESH = 300_000;
const COOLDOWN = 30_000;
const MAX_STALE = 3_600_000;
const TOKEN = { payload: '', signature: '' } as FlattenedJWSInput;

/** A loader the test scripts: answers with `next()`, counting calls. */
class FakeLoader {
  calls = 0;
  next: () => Promise<JSONWebKeySet> = async () => ({ keys: [] });
  readonly load = () => {
    this.calls++;
    return this.next();
  };
  serve(...keys: ForgeKey[]): void {
    this.next = async () => jwks(...keys);
  }
  fail(): void {
    this.next = async () => {
      throw new Error('connect ECONNREFUSED');
    };
  }
}

function deferred<T>() {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

let k1: ForgeKey;
let k2: ForgeKey;
beforeEach(async () => {
  [k1, k2] = await Promise.all([newKey('k1'), newKey('k2')]);
});

function setup() {
  const clock = new ManualClock();
  const timers = new ManualTimers(clock);
  const loader = new FakeLoader();
  const loads: { ok: boolean; trigger: string }[] = [];
  const source = new JwksSource({
    name: 'https://issuer.example',
    load: loader.load,
    clock,
    timers,
    refreshIntervalMs: REFRESH,
    cooldownMs: COOLDOWN,
    maxStaleMs: MAX_STALE,
    onLoad: ({ ok, trigger }) => loads.push({ ok, trigger }),
  });
  const key = (kid: string) => source.getKey({ alg: 'ES256', kid }, TOKEN);
  return { clock, timers, loader, source, loads, key };
}

async function reasonOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'resolved';
  } catch (err) {
    if (err instanceof JwtxError) return err.code;
    if (err instanceof joseErrors.JWKSNoMatchingKey) return 'no-matching-key';
    throw err;
  }
}

describe('JwksSource', () => {
  it('loads on first use and resolves keys by kid', async () => {
    const { loader, source, key } = setup();
    loader.serve(k1);
    expect(source.isUsable()).toBe(false);
    expect(await reasonOf(key('k1'))).toBe('resolved');
    expect(loader.calls).toBe(1);
    expect(source.isUsable()).toBe(true);
    expect(source.size).toBe(1);
  });

  it('shares one load among concurrent callers (single flight)', async () => {
    const { loader, source, key } = setup();
    const pending = deferred<JSONWebKeySet>();
    loader.next = () => pending.promise;
    const waiting = [key('k1'), key('k1'), source.refresh(), key('k1'), source.refresh()];
    pending.resolve(jwks(k1));
    await Promise.all(waiting);
    expect(loader.calls).toBe(1);
  });

  it('refetches on an unknown kid, at most once per cooldown', async () => {
    const { clock, loader, source, key, loads } = setup();
    loader.serve(k1);
    await source.refresh('start');
    loader.serve(k1, k2);

    clock.advance(COOLDOWN - 1);
    expect(await reasonOf(key('k2'))).toBe('no-matching-key');
    expect(loader.calls).toBe(1);

    clock.advance(1);
    expect(await reasonOf(key('k2'))).toBe('resolved');
    expect(loader.calls).toBe(2);
    expect(loads.at(-1)).toEqual({ ok: true, trigger: 'unknown-kid' });

    // A stream of made-up kids right after a refetch costs no further fetches.
    for (const kid of ['x', 'y', '../../etc/passwd']) {
      expect(await reasonOf(key(kid))).toBe('no-matching-key');
    }
    expect(loader.calls).toBe(2);
  });

  it('answers an unknown kid with jwks_unavailable, not a 401, while the endpoint is failing', async () => {
    const { clock, loader, source, key } = setup();
    loader.serve(k1);
    await source.refresh('start');
    loader.fail(); // the issuer rotated to k2, but its endpoint is down
    clock.advance(COOLDOWN);
    expect(await reasonOf(key('k2'))).toBe('jwks_unavailable');
    expect(loader.calls).toBe(2);
    // Within the cooldown no further fetch, and still the retriable answer; known keys still work.
    expect(await reasonOf(key('k2'))).toBe('jwks_unavailable');
    expect(await reasonOf(key('k1'))).toBe('resolved');
    expect(loader.calls).toBe(2);
    // The endpoint is back: the next refetch finds k2; a made-up kid is a 401 again.
    loader.serve(k1, k2);
    clock.advance(COOLDOWN);
    expect(await reasonOf(key('k2'))).toBe('resolved');
    expect(await reasonOf(key('made-up'))).toBe('no-matching-key');
  });

  it('keeps serving the last good set while loads fail, until maxStaleMs', async () => {
    const { clock, loader, source, key } = setup();
    loader.serve(k1);
    await source.refresh();
    loader.fail();

    clock.advance(MAX_STALE);
    await source.refresh();
    expect(source.isUsable()).toBe(true);
    expect(await reasonOf(key('k1'))).toBe('resolved');

    clock.advance(1);
    expect(source.isUsable()).toBe(false);
    expect(await reasonOf(key('k1'))).toBe('jwks_unavailable');
  });

  it('recovers when the endpoint comes back after the set went stale', async () => {
    const { clock, loader, source, key } = setup();
    loader.serve(k1);
    await source.refresh();
    loader.fail();
    clock.advance(MAX_STALE + 1);
    expect(await reasonOf(key('k1'))).toBe('jwks_unavailable');
    loader.serve(k1);
    clock.advance(COOLDOWN);
    expect(await reasonOf(key('k1'))).toBe('resolved');
  });

  it('fails fast with jwks_unavailable while down, fetching at most once per cooldown', async () => {
    const { clock, loader, key } = setup();
    loader.fail();
    for (let i = 0; i < 5; i++) expect(await reasonOf(key('k1'))).toBe('jwks_unavailable');
    expect(loader.calls).toBe(1);
    clock.advance(COOLDOWN);
    expect(await reasonOf(key('k1'))).toBe('jwks_unavailable');
    expect(loader.calls).toBe(2);
  });

  it('treats an answer that is not a JWK Set as a failed load', async () => {
    const { loader, source, loads } = setup();
    loader.next = async () => ({ keys: 'nope' }) as unknown as JSONWebKeySet;
    await source.refresh();
    loader.next = async () => null as unknown as JSONWebKeySet;
    await source.refresh();
    expect(loads.map((l) => l.ok)).toEqual([false, false]);
    expect(source.isUsable()).toBe(false);
  });

  it('reports its age from the injected clock', async () => {
    const { clock, loader, source } = setup();
    expect(source.ageSeconds()).toBe(Infinity);
    loader.serve(k1);
    await source.refresh();
    clock.advance(90_000);
    expect(source.ageSeconds()).toBe(90);
  });

  describe('background refresh (on the injected timers)', () => {
    it('loads at start and again every refreshIntervalMs', async () => {
      const { timers, loader, source, key, loads } = setup();
      loader.serve(k1);
      source.start();
      await timers.advance(0);
      expect(loads).toEqual([{ ok: true, trigger: 'start' }]);

      loader.serve(k1, k2);
      await timers.advance(REFRESH);
      expect(loads.at(-1)).toEqual({ ok: true, trigger: 'interval' });
      expect(loader.calls).toBe(2);
      expect(await reasonOf(key('k2'))).toBe('resolved');
      source.stop();
    });

    it('retries a failed load one cooldown later, not one interval later', async () => {
      const { timers, loader, source, loads } = setup();
      loader.fail();
      source.start();
      await timers.advance(0);
      expect(source.isUsable()).toBe(false);

      loader.serve(k1);
      await timers.advance(COOLDOWN);
      expect(loads.map((l) => `${l.trigger}:${l.ok}`)).toEqual(['start:false', 'retry:true']);
      expect(source.isUsable()).toBe(true);
      source.stop();
    });

    it('stops all timers on stop()', async () => {
      const { timers, loader, source } = setup();
      loader.fail();
      source.start();
      await timers.advance(0);
      expect(timers.size).toBe(2); // the interval and the retry
      source.stop();
      await timers.advance(REFRESH * 3);
      expect(loader.calls).toBe(1);
      expect(timers.size).toBe(0);
    });
  });
});
