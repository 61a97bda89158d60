import { describe, expect, it } from 'vitest';
import { authenticatePhase } from '../../../../src/check/inbound/authenticate.js';
import type { CheckState } from '../../../../src/check/pipeline.js';
import { toRequestContext } from '../../../../src/check/request-context.js';
import { ManualClock } from '../../../helpers/manual-time.js';
import { syntheticCheckRequest } from '../../../../src/envoy/client.js';
import { VerifiedTokenCache } from '../../../../src/jwt/verified-cache.js';
import type { TokenVerifier } from '../../../../src/jwt/verifier.js';
import { fakeVerifier } from './fake-verifier.js';

const evaluation = (authorization?: string): CheckState => ({
  request: toRequestContext(
    syntheticCheckRequest({ headers: authorization ? { authorization } : {} }),
  ),
  identity: undefined,
  credential: undefined,
  wouldDeny: undefined,
  setHeaders: [],
});

function setup(verifier?: TokenVerifier) {
  const calls: string[] = [];
  const observed: string[] = [];
  const phase = authenticatePhase(
    verifier ?? fakeVerifier(calls),
    new VerifiedTokenCache(100, new ManualClock()),
    (r) => observed.push(r),
  );
  return { phase, calls, observed };
}

describe('authenticate phase', () => {
  it('sets the identity and credential, verifying each token once', async () => {
    const { phase, calls, observed } = setup();
    for (let i = 0; i < 3; i++) {
      const ev = evaluation('Bearer good-alice');
      expect(await phase.run(ev)).toBeUndefined();
      expect(ev.identity?.subject).toBe('alice');
      expect(ev.credential).toBe('good-alice');
    }
    expect(calls).toEqual(['good-alice']);
    expect(observed).toEqual(['miss', 'hit', 'hit']);
  });

  it('denies with the verifier reason and does not cache failures', async () => {
    const { phase, calls } = setup();
    for (let i = 0; i < 2; i++) {
      const ev = evaluation('Bearer forged');
      expect(await phase.run(ev)).toMatchObject({ allow: false, reason: 'invalid_signature' });
      expect(ev.identity).toBeUndefined();
    }
    expect(calls).toEqual(['forged', 'forged']);
  });

  it('denies a missing or unusable Authorization header without calling the verifier', async () => {
    const { phase, calls } = setup();
    expect(await phase.run(evaluation())).toMatchObject({ reason: 'missing_token' });
    expect(await phase.run(evaluation('Bearer a b'))).toMatchObject({ reason: 'malformed_token' });
    expect(calls).toEqual([]);
  });

  it('still refuses a second credential after the first one is cached', async () => {
    const { phase, calls, observed } = setup();
    await phase.run(evaluation('Bearer good-alice'));
    for (const header of ['Bearer good-alice, Bearer good-bob', 'Bearer good-alice,good-alice']) {
      expect(await phase.run(evaluation(header))).toMatchObject({ reason: 'malformed_token' });
    }
    expect(calls).toEqual(['good-alice']);
    expect(observed).toEqual(['miss']);
  });

  it('never answers a token with the identity of another that ends the same way', async () => {
    const { phase, calls, observed } = setup();
    const tail = 'T'.repeat(40);
    const first = evaluation(`Bearer good-alice${tail}`);
    const second = evaluation(`Bearer good-bob${tail}`);
    await phase.run(first);
    await phase.run(second);
    expect(first.identity?.subject).toBe(`alice${tail}`);
    expect(second.identity?.subject).toBe(`bob${tail}`);
    expect(calls).toEqual([`good-alice${tail}`, `good-bob${tail}`]);
    expect(observed).toEqual(['miss', 'miss']);
  });

  it('lets an unexpected verifier error propagate (the handler denies it as internal)', async () => {
    const boom = {
      verify: async () => Promise.reject(new Error('bug')),
    } as unknown as TokenVerifier;
    const { phase } = setup(boom);
    await expect(phase.run(evaluation('Bearer x'))).rejects.toThrow('bug');
  });
});
