import { describe, expect, it } from 'vitest';
import { allow, deny, type Decision } from '../../../src/check/decision.js';
import { toRequestContext } from '../../../src/check/request-context.js';
import { REASON_HEADER, toCheckResponse } from '../../../src/check/response.js';
import { syntheticCheckRequest } from '../../../src/envoy/client.js';
import type { CheckResponse, HeaderValueOption } from '../../../src/envoy/types.js';
import { CALLER_MESSAGES, REASON_CODES, REASONS } from '../../../src/errors.js';

const HTTP = toRequestContext(syntheticCheckRequest({ headers: { accept: 'application/json' } }));
const GRPC = toRequestContext(
  syntheticCheckRequest({ method: 'POST', headers: { 'content-type': 'application/grpc' } }),
);

const headerOf = (headers: HeaderValueOption[] | undefined, key: string) =>
  headers?.find((h) => h.header.key === key)?.header.value;

function everyHeader(res: CheckResponse): HeaderValueOption[] {
  return [...(res.ok_response?.headers ?? []), ...(res.denied_response?.headers ?? [])];
}

const DENY_REASONS = REASON_CODES.filter((r) => REASONS[r].grpc !== 0);

describe('toCheckResponse', () => {
  it('allows with status OK, the headers to set and the headers to remove', () => {
    const decision = allow(
      'allowed',
      [
        ['x-jwtauth-subject', 'alice'],
        ['authorization', 'Bearer internal'],
      ],
      ['x-jwtauth-role'],
    );
    const res = toCheckResponse(decision, HTTP);
    expect(res.status).toEqual({ code: 0 });
    expect(res.denied_response).toBeUndefined();
    expect(res.ok_response?.headers.map((h) => [h.header.key, h.header.value])).toEqual([
      ['x-jwtauth-subject', 'alice'],
      ['authorization', 'Bearer internal'],
    ]);
    expect(res.ok_response?.headers_to_remove).toEqual(['x-jwtauth-role']);
  });

  it.each<[string, Decision]>([
    [
      'an allow',
      allow('allowed', [
        ['x-jwtauth-subject', 'a'],
        ['x-jwtauth-issuer', 'i'],
      ]),
    ],
    ['a 401 denial', deny('invalid_signature', 'the signature does not verify')],
    ['a 403 denial', deny('permission_denied', 'no')],
    ['a 503 denial', deny('jwks_unavailable', 'down')],
  ])(
    'sends append:false and OVERWRITE_IF_EXISTS_OR_ADD on every header of %s',
    (_name, decision) => {
      for (const ctx of [HTTP, GRPC]) {
        const headers = everyHeader(toCheckResponse(decision, ctx));
        expect(headers.length).toBeGreaterThan(0);
        for (const h of headers) {
          expect(h.append).toEqual({ value: false });
          expect(h.append_action).toBe('OVERWRITE_IF_EXISTS_OR_ADD');
        }
      }
    },
  );

  it.each(DENY_REASONS)('denies %s with its gRPC code, HTTP status and reason header', (reason) => {
    const res = toCheckResponse(deny(reason, 'why'), HTTP);
    expect(res.ok_response).toBeUndefined();
    expect(res.status).toEqual({
      code: REASONS[reason].grpc,
      message: `${reason}: ${CALLER_MESSAGES[reason]}`,
    });
    expect(res.denied_response?.status.code).toBe(REASONS[reason].http);
    expect(headerOf(res.denied_response?.headers, REASON_HEADER)).toBe(reason);
    const challenge = headerOf(res.denied_response?.headers, 'www-authenticate');
    if (REASONS[reason].http === 401) expect(challenge).toMatch(/^Bearer realm="jwtexchange"/);
    else expect(challenge).toBeUndefined();
  });

  it('challenges a request without credentials with no error code (RFC 6750 §3.1)', () => {
    const res = toCheckResponse(deny('missing_token', 'no bearer token'), HTTP);
    expect(headerOf(res.denied_response?.headers, 'www-authenticate')).toBe(
      'Bearer realm="jwtexchange"',
    );
  });

  it('challenges a bad token with error="invalid_token" and the fixed description of its code', () => {
    const res = toCheckResponse(deny('invalid_claims', 'claim "exp" \\ bad\r\nX-Evil: 1 é'), HTTP);
    const challenge = headerOf(res.denied_response?.headers, 'www-authenticate');
    expect(challenge).toBe(
      `Bearer realm="jwtexchange", error="invalid_token", error_description="the token claims are not acceptable"`,
    );
    expect(challenge).toMatch(/^[\x20-\x7e]+$/);
  });

  it('has a caller message for every code: one plain printable sentence, nothing to quote', () => {
    for (const code of REASON_CODES)
      expect(CALLER_MESSAGES[code]).toMatch(/^[a-z][a-z ()-]+[a-z)]$/);
  });

  // What an exchange or SpiceDB failure really says (finding 5): none of it is the caller's.
  const DETAILS = {
    'a file path': 'ENOENT: no such file or directory, open /etc/jwtexchange/tls/tls.key',
    'an address': 'connect ECONNREFUSED 10.12.0.7:8443',
    'an upstream error_description': 'subject_token kid k-7f3e is not in the JWKS of idp-internal',
    'an endpoint': 'SpiceDB at spicedb.authz.svc:50051',
    'a rule name': 'rule create-namespace-prod',
  };
  const MARKERS = [
    '/etc/jwtexchange',
    'tls.key',
    'ENOENT',
    'ECONNREFUSED',
    '10.12.0.7',
    '8443',
    'k-7f3e',
    'idp-internal',
    'spicedb.authz.svc',
    '50051',
    'create-namespace-prod',
  ];

  it.each(DENY_REASONS)(
    'shows a %s caller the code and its fixed sentence, never the decision details',
    (reason) => {
      const decision = deny(reason, Object.values(DETAILS).join('; '));
      for (const ctx of [HTTP, GRPC, undefined]) {
        const res = toCheckResponse(decision, ctx);
        const shown = [
          res.status.message!,
          res.denied_response!.body,
          ...res.denied_response!.headers.map((h) => `${h.header.key}: ${h.header.value}`),
        ].join('\n');
        for (const marker of MARKERS) expect(shown).not.toContain(marker);
        expect(shown).toContain(CALLER_MESSAGES[reason]);
      }
    },
  );

  it('answers an HTTP caller with a JSON body', () => {
    const res = toCheckResponse(deny('token_expired', 'the token has expired'), HTTP);
    expect(headerOf(res.denied_response?.headers, 'content-type')).toBe('application/json');
    expect(JSON.parse(res.denied_response!.body)).toEqual({
      error: 'token_expired',
      message: 'the token has expired',
    });
  });

  it('answers a gRPC caller with a plain-text body (Envoy turns it into grpc-message)', () => {
    const res = toCheckResponse(deny('token_expired', 'the token has expired'), GRPC);
    expect(res.denied_response?.body).toBe('token_expired: the token has expired');
    expect(headerOf(res.denied_response?.headers, 'content-type')).toBeUndefined();
    expect(res.status.code).toBe(REASONS.token_expired.grpc);
  });

  it('treats a request it could not read as HTTP', () => {
    const res = toCheckResponse(deny('bad_request', 'no HTTP attributes'), undefined);
    expect(res.denied_response?.status.code).toBe(400);
    expect(JSON.parse(res.denied_response!.body)).toMatchObject({ error: 'bad_request' });
  });
});
