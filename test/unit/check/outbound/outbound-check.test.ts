import { describe, expect, it } from 'vitest';
import { Explanation } from '../../../../src/check/explain.js';
import { outboundWithoutTokens } from '../../../../src/check/outbound/outbound-check.js';
import { toRequestContext } from '../../../../src/check/request-context.js';
import { syntheticCheckRequest } from '../../../../src/envoy/client.js';

const OUT = { 'jwtexchange.direction': 'outbound' };
const TAGGED = { ...OUT, 'jwtexchange.audience': 'vmcontroller' };
const WHEN = { ...TAGGED, 'jwtexchange.when-header': 'X-Saga-Id' };

/** A sidecar without an outbound section: only a route that wants a token is refused. */
describe('outboundWithoutTokens', () => {
  it.each([
    ['an untagged route', OUT, {}, true, 'passthrough'],
    ['a tagged route', TAGGED, {}, false, 'audience_not_allowed'],
    ['a when-header route without the header', WHEN, {}, true, 'passthrough'],
    [
      'a when-header route with the header',
      WHEN,
      { 'x-saga-id': 's1' },
      false,
      'audience_not_allowed',
    ],
  ])('%s', async (_, extensions, headers, allowed, reason) => {
    const explain = new Explanation();
    const d = await outboundWithoutTokens(
      toRequestContext(syntheticCheckRequest({ extensions, headers })),
      explain,
    );
    expect(d.allow).toBe(allowed);
    expect(d.reason).toBe(reason);
    expect(explain.steps.map((s) => s.phase)).toEqual(['outbound']);
    if (!allowed) expect(d.setHeaders ?? []).toEqual([]);
  });
});
