import { describe, expect, it } from 'vitest';
import { InFlight } from '../../../src/check/in-flight.js';

describe('InFlight', () => {
  it('is idle at once when nothing is in flight', async () => {
    const inFlight = new InFlight();
    expect(inFlight.size).toBe(0);
    await inFlight.idle();
  });

  it('resolves idle() only when the last check leaves', async () => {
    const inFlight = new InFlight();
    inFlight.enter();
    inFlight.enter();
    let idle = false;
    const waiting = inFlight.idle().then(() => (idle = true));
    const second = inFlight.idle();
    inFlight.leave();
    await Promise.resolve();
    expect(inFlight.size).toBe(1);
    expect(idle).toBe(false);
    inFlight.leave();
    await Promise.all([waiting, second]);
    expect(idle).toBe(true);
    expect(inFlight.size).toBe(0);
  });

  it('waits again after a new check enters', async () => {
    const inFlight = new InFlight();
    inFlight.enter();
    inFlight.leave();
    inFlight.enter();
    let idle = false;
    const waiting = inFlight.idle().then(() => (idle = true));
    await Promise.resolve();
    expect(idle).toBe(false);
    inFlight.leave();
    await waiting;
    expect(idle).toBe(true);
  });
});
