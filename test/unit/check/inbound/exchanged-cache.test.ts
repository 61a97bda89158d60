import { describe, expect, it } from 'vitest';
import { ExchangedTokenCache } from '../../../../src/check/inbound/exchanged-cache.js';
import { buildIdentity } from '../../../../src/jwt/identity.js';
import { ManualClock } from '../../../helpers/manual-time.js';

function setup() {
  const clock = new ManualClock();
  const cache = new ExchangedTokenCache(10, clock, 10_000);
  let calls = 0;
  /** An internal token living `lifeS` seconds from now. */
  const load = (lifeS: number) => async () => {
    calls++;
    const exp = Math.floor(clock.now() / 1000) + lifeS;
    return {
      token: `internal-${calls}`,
      identity: buildIdentity('https://sts', { sub: 'a', exp }),
    };
  };
  return { clock, cache, load, calls: () => calls };
}

describe('ExchangedTokenCache', () => {
  it('says where each answer came from: token-exchange, shared while in flight, then cache', async () => {
    const { cache, load, calls } = setup();
    const far = Date.UTC(2027, 0, 1);
    const [a, b] = await Promise.all([
      cache.get('caller', far, load(300)),
      cache.get('caller', far, load(300)),
    ]);
    expect([a.source, b.source]).toEqual(['token-exchange', 'shared']);
    expect((await cache.get('caller', far, load(300))).source).toBe('cache');
    expect(calls()).toBe(1);
  });

  it("never outlives the caller's token minus the margin", async () => {
    const { clock, cache, load, calls } = setup();
    const callerExp = clock.now() + 60_000;
    await cache.get('caller', callerExp, load(300));
    clock.advance(49_000);
    expect((await cache.get('caller', callerExp, load(300))).source).toBe('cache');
    clock.advance(2_000); // past callerExp - 10 s
    expect((await cache.get('caller', callerExp, load(300))).source).toBe('token-exchange');
    expect(calls()).toBe(2);
  });

  it('does not cache a failure', async () => {
    const { cache, load } = setup();
    const far = Date.UTC(2027, 0, 1);
    const down = async () => Promise.reject(new Error('down'));
    await expect(cache.get('caller', far, down)).rejects.toThrow('down');
    expect((await cache.get('caller', far, load(300))).source).toBe('token-exchange');
  });
});
