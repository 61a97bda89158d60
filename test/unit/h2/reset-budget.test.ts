import { describe, expect, it } from 'vitest';
import { ResetBudget } from '../../../src/h2/reset-budget.js';
import { ManualClock } from '../../helpers/manual-time.js';

const spend = (budget: ResetBudget, n: number) => {
  let taken = 0;
  for (let i = 0; i < n; i++) if (budget.take()) taken++;
  return taken;
};

describe('ResetBudget', () => {
  it('allows the burst, then refills at the rate, never past the burst', () => {
    const clock = new ManualClock();
    const budget = new ResetBudget(clock, 10, 5);
    expect(spend(budget, 12)).toBe(10);
    clock.advance(1000);
    expect(spend(budget, 10)).toBe(5);
    clock.advance(60_000);
    expect(spend(budget, 20)).toBe(10);
  });

  it('refills nothing when the clock steps back', () => {
    const clock = new ManualClock();
    const budget = new ResetBudget(clock, 2, 1000);
    expect(spend(budget, 2)).toBe(2);
    clock.advance(-5000);
    expect(budget.take()).toBe(false);
    clock.advance(1); // from the stepped-back time on, time counts again
    expect(budget.take()).toBe(true);
  });
});
