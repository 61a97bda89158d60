import { describe, expect, it } from 'vitest';
import type { Decision } from '../../../../src/check/decision.js';
import { Explanation } from '../../../../src/check/explain.js';
import {
  injectServiceTokenPhase,
  selectTarget,
} from '../../../../src/check/outbound/inject-token.js';
import type { CheckState } from '../../../../src/check/pipeline.js';
import { toRequestContext } from '../../../../src/check/request-context.js';
import { syntheticCheckRequest } from '../../../../src/envoy/client.js';
import type { ServiceTokenSource } from '../../../../src/tokens/remote-service-tokens.js';
import { TokenRequestError } from '../../../../src/tokens/token-errors.js';

const ALLOWLIST = new Map([
  ['vmcontroller', new Set(['vm.write'])],
  ['billing', new Set<string>()],
]);
const OUT = { 'jwtexchange.direction': 'outbound' };
const ctx = (extensions: Record<string, string>, headers: Record<string, string> = {}) =>
  toRequestContext(syntheticCheckRequest({ extensions: { ...OUT, ...extensions }, headers }));

// [case, extensions, headers, the target, or the decision's reason]
const TARGETS: [string, Record<string, string>, Record<string, string>, string][] = [
  ['untagged route', {}, {}, 'passthrough'],
  ['tagged, allowed audience', { 'jwtexchange.audience': 'billing' }, {}, 'billing/'],
  [
    'tagged with an allowed scope',
    { 'jwtexchange.audience': 'vmcontroller', 'jwtexchange.scope': 'vm.write' },
    {},
    'vmcontroller/vm.write',
  ],
  [
    'a scope off the allowlist',
    { 'jwtexchange.audience': 'vmcontroller', 'jwtexchange.scope': 'vm.admin' },
    {},
    'audience_not_allowed',
  ],
  [
    'an audience off the allowlist',
    { 'jwtexchange.audience': 'payroll' },
    {},
    'audience_not_allowed',
  ],
  [
    'when-header absent',
    { 'jwtexchange.audience': 'billing', 'jwtexchange.when-header': 'X-Saga-Id' },
    {},
    'passthrough',
  ],
  [
    'when-header present (any case in the tag)',
    { 'jwtexchange.audience': 'billing', 'jwtexchange.when-header': 'X-Saga-Id' },
    { 'x-saga-id': 's1' },
    'billing/',
  ],
];

describe('selectTarget: which service token an outbound route gets', () => {
  it.each(TARGETS)('%s', (_, extensions, headers, expected) => {
    const explain = new Explanation();
    const t = selectTarget(ctx(extensions, headers), ALLOWLIST, explain);
    const got = 'allow' in t ? (t as Decision).reason : `${t.audience}/${t.scope}`;
    expect(got).toBe(expected);
    if ('allow' in t) expect(explain.steps[0]?.outcome).toBe(t.allow ? 'passthrough' : 'denied');
  });
});

function state(extensions: Record<string, string>, explain?: Explanation): CheckState {
  return {
    request: ctx(extensions),
    identity: undefined,
    credential: undefined,
    wouldDeny: undefined,
    setHeaders: [],
    explain,
  };
}

const source = (get: ServiceTokenSource['get']) =>
  ({ get, isWarm: () => true }) as ServiceTokenSource;
const TAGGED = { 'jwtexchange.audience': 'billing' };

describe('injectServiceTokenPhase', () => {
  it('injects a cached token synchronously (the warm path: no promise)', () => {
    const phase = injectServiceTokenPhase(
      ALLOWLIST,
      source(() => 'svc-token'),
    );
    const d = phase.run(state(TAGGED));
    expect(d).not.toBeInstanceOf(Promise);
    expect(d).toMatchObject({
      allow: true,
      reason: 'injected',
      setHeaders: [['authorization', 'Bearer svc-token']],
    });
  });

  it('waits for a token being fetched', async () => {
    const phase = injectServiceTokenPhase(
      ALLOWLIST,
      source(async () => 'fresh'),
    );
    expect(await phase.run(state(TAGGED))).toMatchObject({ reason: 'injected' });
  });

  it.each([
    ['refused', new TokenRequestError('refused', 'no', 'invalid_target'), 'service_token_refused'],
    ['unusable answer', new TokenRequestError('invalid', 'bad'), 'service_token_invalid'],
    ['unreachable', new TokenRequestError('transport', 'down'), 'service_token_unavailable'],
  ])('denies when token-exchange is %s, thrown or rejected', async (_, err, reason) => {
    const thrown = injectServiceTokenPhase(
      ALLOWLIST,
      source(() => {
        throw err;
      }),
    );
    const rejected = injectServiceTokenPhase(
      ALLOWLIST,
      source(() => Promise.reject(err)),
    );
    expect(await thrown.run(state(TAGGED))).toMatchObject({ allow: false, reason });
    expect(await rejected.run(state(TAGGED))).toMatchObject({ allow: false, reason });
  });

  it('explains where the token came from, never its value', () => {
    const explain = new Explanation();
    injectServiceTokenPhase(
      ALLOWLIST,
      source(() => 'svc-token'),
    ).run(state(TAGGED, explain));
    expect(explain.steps).toMatchObject([
      { phase: 'inject_service_token', outcome: 'injected', serviceToken: 'cache' },
    ]);
    expect(JSON.stringify(explain.steps)).not.toContain('svc-token');
  });
});
