import { describe, expect, it } from 'vitest';
import { Explanation } from '../../../../src/check/explain.js';
import { identityHeadersPhase } from '../../../../src/check/inbound/identity-headers.js';
import type { CheckState } from '../../../../src/check/pipeline.js';
import { toRequestContext } from '../../../../src/check/request-context.js';
import { syntheticCheckRequest } from '../../../../src/envoy/client.js';
import { buildIdentity, type VerifiedIdentity } from '../../../../src/jwt/identity.js';

function state(identity: VerifiedIdentity | undefined): CheckState {
  return {
    request: toRequestContext(syntheticCheckRequest({})),
    identity,
    credential: undefined,
    wouldDeny: undefined,
    setHeaders: [['x-earlier', '1']],
    explain: new Explanation(),
  };
}

describe('identityHeadersPhase', () => {
  it('adds the identity headers after what earlier phases set, and never decides', () => {
    const identity = buildIdentity('https://auth.example', { sub: 'alice' });
    expect(identity.headers.length).toBeGreaterThan(0);
    const ev = state(identity);
    expect(identityHeadersPhase.run(ev)).toBeUndefined();
    expect(ev.setHeaders).toEqual([['x-earlier', '1'], ...identity.headers]);
    expect(ev.explain!.steps).toEqual([
      {
        phase: 'identity_headers',
        outcome: 'set',
        headers: identity.headers.map(([name]) => name).join(', '),
      },
    ]);
  });

  it('sets nothing without an identity', () => {
    const ev = state(undefined);
    expect(identityHeadersPhase.run(ev)).toBeUndefined();
    expect(ev.setHeaders).toEqual([['x-earlier', '1']]);
    expect(ev.explain!.steps).toEqual([{ phase: 'identity_headers', outcome: 'none' }]);
  });
});
