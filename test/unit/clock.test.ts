import { describe, expect, it } from 'vitest';
import { nowSeconds, repeat, type Clock } from '../../src/clock.js';
import { ManualClock, ManualTimers } from '../helpers/manual-time.js';

describe('nowSeconds', () => {
  it.each([
    [0, 0],
    [999, 0],
    [1_000, 1],
    [1_700_000_000_999, 1_700_000_000],
  ])('%i ms is %i s (rounded down, as exp and iat are compared)', (ms, s) => {
    const clock: Clock = { now: () => ms };
    expect(nowSeconds(clock)).toBe(s);
  });
});

describe('repeat', () => {
  it('calls fn once per period on the given timers until stopped', async () => {
    const clock = new ManualClock();
    const timers = new ManualTimers(clock);
    const start = clock.now();
    const calls: number[] = [];
    const stop = repeat(timers, () => calls.push(clock.now() - start), 1_000);
    expect(calls).toEqual([]);
    await timers.advance(999);
    expect(calls).toEqual([]);
    await timers.advance(2_001);
    expect(calls).toEqual([1_000, 2_000, 3_000]);
    expect(timers.size).toBe(1);
    stop();
    expect(timers.size).toBe(0);
    await timers.advance(10_000);
    expect(calls).toHaveLength(3);
  });

  it('schedules nothing more when stopped from inside fn', async () => {
    const timers = new ManualTimers(new ManualClock());
    let calls = 0;
    const stop = repeat(
      timers,
      () => {
        calls++;
        stop();
      },
      100,
    );
    await timers.advance(1_000);
    expect(calls).toBe(1);
    expect(timers.size).toBe(0);
  });
});
