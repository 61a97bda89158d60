import { describe, expect, it } from 'vitest';
import { Explanation } from '../../../../src/check/explain.js';
import { exemptPhase } from '../../../../src/check/inbound/exempt.js';
import type { CheckState } from '../../../../src/check/pipeline.js';
import { CONTEXT_EXTENSIONS, toRequestContext } from '../../../../src/check/request-context.js';
import { syntheticCheckRequest } from '../../../../src/envoy/client.js';

function state(extensions: Record<string, string>): CheckState {
  return {
    request: toRequestContext(syntheticCheckRequest({ extensions })),
    identity: undefined,
    credential: undefined,
    wouldDeny: undefined,
    setHeaders: [],
    explain: new Explanation(),
  };
}

describe('exemptPhase', () => {
  it('allows a route tagged exempt "true", and says why', () => {
    const ev = state({ [CONTEXT_EXTENSIONS.exempt]: 'true' });
    expect(exemptPhase.run(ev)).toMatchObject({ allow: true, reason: 'exempt', setHeaders: [] });
    expect(ev.explain!.steps).toEqual([
      {
        phase: 'exempt',
        outcome: 'exempt',
        note: `the route sets ${CONTEXT_EXTENSIONS.exempt}: "true"`,
      },
    ]);
  });

  it.each<Record<string, string>>([
    {},
    { [CONTEXT_EXTENSIONS.exempt]: 'TRUE' },
    { [CONTEXT_EXTENSIONS.exempt]: '1' },
  ])('goes on to authentication for %o', (extensions) => {
    const ev = state(extensions);
    expect(exemptPhase.run(ev)).toBeUndefined();
    expect(ev.explain!.steps).toEqual([{ phase: 'exempt', outcome: 'not_exempt' }]);
  });
});
