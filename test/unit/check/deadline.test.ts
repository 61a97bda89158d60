import { describe, expect, it } from 'vitest';
import { answerBy, withinDeadline } from '../../../src/check/deadline.js';
import { allow, deny } from '../../../src/check/decision.js';
import { createPipeline, type Phase } from '../../../src/check/pipeline.js';
import { toRequestContext } from '../../../src/check/request-context.js';
import { syntheticCheckRequest } from '../../../src/envoy/client.js';

describe('answerBy', () => {
  const now = 1_000_000;

  it('answers 10% of the budget early, at least 10 ms and at most 250 ms', () => {
    expect(answerBy(now + 1_000, now)).toBe(now + 900);
    expect(answerBy(new Date(now + 2_000), now)).toBe(now + 1_800);
    expect(answerBy(now + 50, now)).toBe(now + 40);
    expect(answerBy(now + 10_000, now)).toBe(now + 9_750);
  });

  it('has nothing to answer by when the caller set no deadline', () => {
    expect(answerBy(Infinity, now)).toBeUndefined();
  });
});

describe('withinDeadline', () => {
  const never = new Promise<string>(() => undefined);

  it('settles with the late answer when the work is still pending', async () => {
    expect(await withinDeadline(never, Date.now() + 5, () => 'late')).toBe('late');
  });

  it('sets no timer for a deadline past the longest one Node keeps (it would fire at once)', async () => {
    const farOff = Date.now() + 99_999_999 * 3_600_000; // grpc-timeout 99999999H
    const slow = new Promise<string>((r) => setTimeout(() => r('done'), 20));
    expect(await withinDeadline(slow, farOff, () => 'late')).toBe('done');
  });

  it('settles with the work when it comes first, and passes errors on', async () => {
    const later = Date.now() + 60_000;
    expect(await withinDeadline(Promise.resolve('done'), later, () => 'late')).toBe('done');
    await expect(
      withinDeadline(Promise.reject(new Error('x')), later, () => 'late'),
    ).rejects.toThrow('x');
  });
});

describe('a pipeline phase still waiting at the deadline', () => {
  const hung: Phase = {
    name: 'inject_service_token',
    onDeadline: { reason: 'service_token_unavailable', message: 'no token before the deadline' },
    run: () => new Promise(() => undefined),
  };
  const after: Phase = { name: 'after', run: () => allow('injected') };

  it('denies with the phase reason, so Envoy gets it before its own timeout', async () => {
    const pipeline = createPipeline([hung, after], 'injected');
    const ctx = toRequestContext(syntheticCheckRequest({}), Date.now() + 5);
    expect(await pipeline.run(ctx)).toEqual(
      deny('service_token_unavailable', 'no token before the deadline'),
    );
  });

  it('is not bounded when the request carries no deadline or the phase declares none', async () => {
    const quick: Phase = { name: 'quick', run: async () => deny('missing_token', 'no token') };
    const ctx = toRequestContext(syntheticCheckRequest({}));
    expect(await createPipeline([quick], 'allowed').run(ctx)).toMatchObject({
      reason: 'missing_token',
    });
    const unbounded = { ...hung, onDeadline: undefined };
    const result = createPipeline([unbounded], 'injected').run(
      toRequestContext(syntheticCheckRequest({}), Date.now() + 5),
    );
    const winner = await Promise.race([
      result,
      new Promise((r) => setTimeout(() => r('pending'), 50)),
    ]);
    expect(winner).toBe('pending');
  });
});
