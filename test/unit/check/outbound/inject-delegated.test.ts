import { describe, expect, it } from 'vitest';
import { injectDelegatedTokenPhase } from '../../../../src/check/outbound/inject-delegated.js';
import { Explanation } from '../../../../src/check/explain.js';
import { createPipeline } from '../../../../src/check/pipeline.js';
import { toRequestContext } from '../../../../src/check/request-context.js';
import { syntheticCheckRequest } from '../../../../src/envoy/client.js';
import type {
  DelegatedKey,
  DelegatedTokenCache,
} from '../../../../src/tokens/delegated-token-cache.js';
import { TokenRequestError } from '../../../../src/tokens/token-errors.js';

const ALLOWLIST = new Map([['vmcontroller', new Set<string>()]]);
const TAGGED = {
  'jwtexchange.direction': 'outbound',
  'jwtexchange.audience': 'vmcontroller',
  'jwtexchange.delegation': 'saga',
};

/** A cache fake: answers per saga id; `fail` makes it throw (synchronously, like a remembered refusal). */
function setup(answer: (key: DelegatedKey) => string | Promise<string>) {
  const asked: DelegatedKey[] = [];
  const cache = {
    get: (key: DelegatedKey) => {
      asked.push(key);
      return answer(key);
    },
  } as unknown as DelegatedTokenCache;
  const next = {
    name: 'next',
    run: () =>
      ({
        allow: true,
        reason: 'injected',
        message: 'ok',
        setHeaders: [],
        removeHeaders: [],
      }) as const,
  };
  const pipeline = createPipeline(
    [injectDelegatedTokenPhase(ALLOWLIST, cache, 'x-saga-id'), next],
    'injected',
  );
  const run = (
    extensions: Record<string, string>,
    headers: Record<string, string> = {},
    explain?: Explanation,
  ) => pipeline.run(toRequestContext(syntheticCheckRequest({ extensions, headers })), explain);
  return { run, asked };
}

describe('inject delegated token phase', () => {
  it('injects the saga token for the audience, synchronously when cached', () => {
    const { run, asked } = setup((k) => `token-for-${k.sagaId}`);
    const d = run(TAGGED, { 'x-saga-id': 'saga-1', authorization: 'Bearer app' });
    expect(d).toMatchObject({
      allow: true,
      reason: 'delegated',
      setHeaders: [['authorization', 'Bearer token-for-saga-1']],
    });
    expect(asked).toEqual([{ audience: 'vmcontroller', sagaId: 'saga-1' }]);
  });

  it('waits for a first exchange', async () => {
    const { run } = setup(async () => 'fresh');
    const d = await run(TAGGED, { 'x-saga-id': 'saga-1' });
    expect(d).toMatchObject({
      reason: 'delegated',
      setHeaders: [['authorization', 'Bearer fresh']],
    });
  });

  it('leaves routes without the delegation tag to the next phase', () => {
    const { run, asked } = setup(() => 'x');
    const service: Record<string, string> = { ...TAGGED };
    delete service['jwtexchange.delegation'];
    expect(run(service, { 'x-saga-id': 'saga-1' })).toMatchObject({ reason: 'injected' });
    expect(asked).toEqual([]);
  });

  it.each([
    ['a missing saga id', {}, 'invalid_saga_id', /^x-saga-id is missing or empty$/],
    ['an unsafe saga id', { 'x-saga-id': 'saga 1' }, 'invalid_saga_id', /may contain only/],
    ['an overlong saga id', { 'x-saga-id': 's'.repeat(300) }, 'invalid_saga_id', /longer than 128/],
  ])('denies %s without asking token-exchange', (_n, headers, reason, message) => {
    const { run, asked } = setup(() => 'x');
    expect(run(TAGGED, headers)).toMatchObject({
      allow: false,
      reason,
      message: expect.stringMatching(message),
    });
    expect(asked).toEqual([]);
  });

  it.each([
    ['another delegation kind', { 'jwtexchange.delegation': 'user' }, 'bad_request'],
    ['no audience', { 'jwtexchange.audience': undefined }, 'bad_request'],
    ['a scope', { 'jwtexchange.scope': 'ns:write' }, 'bad_request'],
    [
      'an audience off the allowlist',
      { 'jwtexchange.audience': 'billing' },
      'audience_not_allowed',
    ],
  ])('denies a route tagged with %s', (_n, ext, reason) => {
    const { run, asked } = setup(() => 'x');
    const extensions = Object.fromEntries(
      Object.entries({ ...TAGGED, ...ext }).filter(([, v]) => v !== undefined),
    ) as Record<string, string>;
    expect(run(extensions, { 'x-saga-id': 'saga-1' })).toMatchObject({ allow: false, reason });
    expect(asked).toEqual([]);
  });

  it('passes through when jwtexchange.when-header is absent from the request', () => {
    const { run } = setup(() => 'x');
    expect(run({ ...TAGGED, 'jwtexchange.when-header': 'x-saga-id' })).toMatchObject({
      allow: true,
      reason: 'passthrough',
    });
  });

  it('maps refusals to 403 delegation_refused and outages to 503 delegation_unavailable', async () => {
    const refused = setup(() => {
      throw new TokenRequestError(
        'refused',
        'token-exchange refused (invalid_request): not ours',
        'invalid_request',
      );
    });
    expect(refused.run(TAGGED, { 'x-saga-id': 's' })).toMatchObject({
      reason: 'delegation_refused',
      message: 'token-exchange refused (invalid_request): not ours',
    });
    const down = setup(async () => {
      throw new TokenRequestError('transport', 'token-exchange unreachable: ECONNREFUSED');
    });
    expect(await down.run(TAGGED, { 'x-saga-id': 's' })).toMatchObject({
      reason: 'delegation_unavailable',
    });
    const serverError = setup(async () => {
      throw new TokenRequestError(
        'refused',
        'token-exchange refused (server_error)',
        'server_error',
      );
    });
    expect(await serverError.run(TAGGED, { 'x-saga-id': 's' })).toMatchObject({
      reason: 'delegation_unavailable',
    });
  });

  it('explains what it did, never showing the token', async () => {
    const { run } = setup(() => 'secret-token');
    const explain = new Explanation();
    run(TAGGED, { 'x-saga-id': 'saga-1' }, explain);
    run(TAGGED, { 'x-saga-id': 'saga 1' }, explain);
    run({ ...TAGGED, 'jwtexchange.when-header': 'x-saga-id' }, {}, explain);
    expect(explain.steps).toEqual([
      expect.objectContaining({
        phase: 'inject_delegated_token',
        outcome: 'delegated',
        audience: 'vmcontroller',
        saga: 'saga-1',
        delegatedToken: 'cache',
      }),
      expect.objectContaining({
        phase: 'inject_delegated_token',
        outcome: 'denied',
        reason: 'invalid_saga_id',
      }),
      expect.objectContaining({
        phase: 'inject_delegated_token',
        outcome: 'passthrough',
        note: 'jwtexchange.when-header: the request has no x-saga-id header',
      }),
    ]);
    expect(JSON.stringify(explain.steps)).not.toContain('secret-token');
  });
});
