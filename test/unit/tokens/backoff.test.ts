import { describe, expect, it } from 'vitest';
import { backoffDelay, refreshPoint } from '../../../src/tokens/backoff.js';

const fixed = (v: number) => () => v;

describe('backoffDelay', () => {
  it.each([
    // failures, random, expected (min 100, max 1000)
    [0, 0, 50],
    [1, 0, 50],
    [1, 1, 100],
    [2, 0, 100],
    [2, 0.5, 150],
    [3, 1, 400],
    [4, 0, 400],
    [5, 1, 1000], // 1600 capped at max
    [50, 0, 500], // still capped, never Infinity
  ])('after %i failures with random %d waits %d ms', (failures, random, expected) => {
    expect(backoffDelay(failures, 100, 1000, fixed(random))).toBe(expected);
  });

  it('never drops below half the step, so retries never collapse to zero', () => {
    for (let failures = 1; failures < 20; failures++) {
      const low = backoffDelay(failures, 100, 1000, fixed(0));
      const high = backoffDelay(failures, 100, 1000, fixed(0.999999));
      expect(low).toBeGreaterThan(0);
      expect(high).toBeLessThanOrEqual(low * 2);
    }
  });
});

describe('refreshPoint', () => {
  it.each([
    // random → jitter factor: 0 → -jitter, 0.5 → none, 1 → +jitter
    [0.5, 1_000 + 800],
    [0, 1_000 + 800 * 0.9],
    [1, 1_000 + 800 * 1.1],
  ])('with random %d refreshes at %d', (random, expected) => {
    // issued at 1000, expires at 2000, refresh at 80 % ± 10 %
    expect(refreshPoint(1_000, 2_000, 0.8, 0.1, fixed(random))).toBeCloseTo(expected, 9);
  });

  it('refreshes exactly at the fraction without jitter', () => {
    expect(refreshPoint(0, 60_000, 0.5, 0, fixed(0.123))).toBe(30_000);
  });
});
