import { describe, expect, it } from 'vitest';
import { Readiness } from '../../src/readiness.js';

describe('Readiness change events', () => {
  it('tells listeners when the overall answer changes, once per change', () => {
    const readiness = new Readiness();
    let keys = false;
    let token = false;
    readiness.register('jwks:a', () => ({ ready: keys }));
    readiness.register('service-token:b', () => ({ ready: token }));
    const seen: boolean[] = [];
    readiness.onChange((ready) => seen.push(ready));

    expect(readiness.recheck()).toBe(false);
    keys = true;
    readiness.recheck();
    readiness.recheck();
    expect(seen).toEqual([false]);
    token = true;
    expect(readiness.recheck()).toBe(true);
    readiness.recheck();
    expect(seen).toEqual([false, true]);
  });

  it('tells a listener the current answer when it starts listening', () => {
    const readiness = new Readiness();
    readiness.register('jwks:a', () => ({ ready: true }));
    // Every gate became ready before anyone listened (the server was still starting).
    expect(readiness.recheck()).toBe(true);
    const seen: boolean[] = [];
    readiness.onChange((ready) => seen.push(ready));
    expect(seen).toEqual([true]);
  });

  it('reports not ready as soon as draining starts', () => {
    const readiness = new Readiness();
    readiness.register('jwks:a', () => ({ ready: true }));
    const seen: boolean[] = [];
    readiness.onChange((ready) => seen.push(ready));
    readiness.recheck();
    readiness.startDraining();
    expect(seen).toEqual([true, false]);
    expect(readiness.report()).toMatchObject({ ready: false, draining: true });
  });

  it('treats a probe that throws as not ready, naming the error', () => {
    const readiness = new Readiness();
    readiness.register('spicedb', () => {
      throw new Error('boom');
    });
    expect(readiness.recheck()).toBe(false);
    expect(readiness.report().gates.spicedb).toEqual({ ready: false, detail: 'boom' });
  });
});
