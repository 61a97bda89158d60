import { describe, expect, it } from 'vitest';
import { allow, deny, type Decision } from '../../../src/check/decision.js';
import { toRequestContext } from '../../../src/check/request-context.js';
import { REASON_HEADER, toCheckResponse } from '../../../src/check/response.js';
import { syntheticCheckRequest } from '../../../src/envoy/client.js';
import { ROUTE_HEADER } from '../../../src/envoy/http-check-request.js';
import { HEADERS_TO_REMOVE, toHttpCheckAnswer } from '../../../src/envoy/http-check-response.js';
import type { CheckResponse } from '../../../src/envoy/types.js';
import { CALLER_MESSAGES, REASON_CODES, REASONS } from '../../../src/errors.js';

const HTTP = toRequestContext(syntheticCheckRequest({ headers: { accept: 'application/json' } }));
const GRPC = toRequestContext(
  syntheticCheckRequest({ method: 'POST', headers: { 'content-type': 'application/grpc' } }),
);

/** The answer's flat header list as [name, value] pairs, in order. */
function pairs(headers: readonly string[]): [string, string][] {
  expect(headers.length % 2).toBe(0);
  const out: [string, string][] = [];
  for (let i = 0; i < headers.length; i += 2) out.push([headers[i]!, headers[i + 1]!]);
  return out;
}

const answer = (decision: Decision, ctx = HTTP) =>
  toHttpCheckAnswer(toCheckResponse(decision, ctx));

describe('toHttpCheckAnswer: allow', () => {
  it('answers 200 with the headers to set in order, then what Envoy must remove', () => {
    const a = answer(
      allow(
        'allowed',
        [
          ['x-jwtauth-subject', 'alice'],
          ['x-jwtauth-issuer', 'https://issuer'],
          ['authorization', 'Bearer internal'],
        ],
        ['x-jwtauth-role', 'x-jwtauth-admin'],
      ),
    );
    expect(a.status).toBe(200);
    expect(a.body).toBe('');
    expect(pairs(a.headers)).toEqual([
      ['x-jwtauth-subject', 'alice'],
      ['x-jwtauth-issuer', 'https://issuer'],
      ['authorization', 'Bearer internal'],
      [HEADERS_TO_REMOVE, `x-jwtauth-role,x-jwtauth-admin,${ROUTE_HEADER}`],
    ]);
  });

  it.each<[string, Decision]>([
    ['a passthrough', allow('passthrough')],
    ['an exempt route', allow('exempt')],
    ['a dry run', { ...allow('dry_run'), wouldDeny: 'missing_token' }],
  ])('removes the route header on %s with nothing else to set', (_name, decision) => {
    const a = answer(decision);
    expect(a.status).toBe(200);
    expect(pairs(a.headers)).toEqual([[HEADERS_TO_REMOVE, ROUTE_HEADER]]);
  });

  it('is the same for a gRPC caller (an allow has no body either way)', () => {
    const decision = allow('injected', [['authorization', 'Bearer svc']]);
    expect(answer(decision, GRPC)).toEqual(answer(decision, HTTP));
  });

  it('does not change the CheckResponse it reads (frozen, reused header options)', () => {
    const decision = allow('allowed', [Object.freeze(['x-jwtauth-subject', 'a'] as const)], ['x']);
    const res = toCheckResponse(decision, HTTP);
    const before = JSON.stringify(res);
    toHttpCheckAnswer(res);
    toHttpCheckAnswer(res);
    expect(JSON.stringify(res)).toBe(before);
    expect(res.ok_response!.headers_to_remove).toEqual(['x']);
  });
});

describe('toHttpCheckAnswer: deny', () => {
  it('answers a missing token with 401, the reason, the bare challenge and the JSON body', () => {
    const a = answer(deny('missing_token', 'no bearer token'));
    expect(a.status).toBe(401);
    expect(pairs(a.headers)).toEqual([
      [REASON_HEADER, 'missing_token'],
      ['www-authenticate', 'Bearer realm="jwtexchange"'],
      ['content-type', 'application/json'],
    ]);
    expect(JSON.parse(a.body)).toEqual({
      error: 'missing_token',
      message: CALLER_MESSAGES.missing_token,
    });
    // The decision's own message is for the log only.
    expect(a.body).not.toContain('no bearer token');
  });

  it('answers a gRPC caller with the plain sentence Envoy turns into grpc-message', () => {
    const a = answer(deny('missing_token', 'x'), GRPC);
    expect(a.status).toBe(401);
    expect(pairs(a.headers).map(([k]) => k)).toEqual([REASON_HEADER, 'www-authenticate']);
    expect(a.body).toBe(`missing_token: ${CALLER_MESSAGES.missing_token}`);
  });

  it.each(REASON_CODES.filter((r) => REASONS[r].grpc !== 0))(
    '%s: its HTTP status, headers and body, exactly as in the CheckResponse',
    (reason) => {
      const res = toCheckResponse(deny(reason, 'detail for the log'), HTTP);
      const a = toHttpCheckAnswer(res);
      expect(a.status).toBe(REASONS[reason].http);
      expect(pairs(a.headers)).toEqual(
        res.denied_response!.headers.map((h) => [h.header.key, h.header.value]),
      );
      expect(a.body).toBe(res.denied_response!.body);
      expect(pairs(a.headers)).toContainEqual([REASON_HEADER, reason]);
      expect(a.headers).not.toContain(HEADERS_TO_REMOVE);
      expect(a.status).not.toBe(200);
    },
  );

  it('still denies a CheckResponse whose denial has no HTTP status, or no denied_response', () => {
    const noStatus: CheckResponse = {
      status: { code: 7 },
      denied_response: { status: { code: 0 }, headers: [], body: 'no' },
    };
    expect(toHttpCheckAnswer(noStatus)).toEqual({ status: 403, headers: [], body: 'no' });
    expect(toHttpCheckAnswer({ status: { code: 7 } })).toEqual({
      status: 403,
      headers: [],
      body: '',
    });
  });
});
