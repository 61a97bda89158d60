import { describe, expect, it } from 'vitest';
import { readTokenAnswer } from '../../../src/tokens/token-answer.js';
import { TokenRequestError, type TokenFailureKind } from '../../../src/tokens/token-errors.js';

const STARTED = 1_700_000_000_000;
const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
/** An unsigned JWT: readTokenAnswer only reads aud and exp, it never verifies. */
const jwt = (claims: Record<string, unknown>) => `${b64({ alg: 'ES256' })}.${b64(claims)}.c2ln`;
const answer = (body: Record<string, unknown>) =>
  JSON.stringify({ token_type: 'Bearer', expires_in: 300, ...body });

function failure(status: number, text: string, targets = ['vm']): TokenRequestError {
  try {
    readTokenAnswer(status, text, STARTED, targets);
  } catch (err) {
    expect(err).toBeInstanceOf(TokenRequestError);
    return err as TokenRequestError;
  }
  throw new Error('expected a TokenRequestError');
}

describe('readTokenAnswer', () => {
  it.each([
    ['an opaque token by expires_in', answer({ access_token: 'opaque' }), STARTED + 300_000],
    [
      'a JWT whose exp comes before expires_in',
      answer({ access_token: jwt({ aud: 'vm', exp: STARTED / 1000 + 60 }) }),
      STARTED + 60_000,
    ],
    [
      'a JWT by expires_in when its exp is later',
      answer({ access_token: jwt({ aud: ['x', 'vm'], exp: STARTED / 1000 + 3600 }) }),
      STARTED + 300_000,
    ],
    [
      'a JWT by exp alone, token_type in any case',
      JSON.stringify({
        access_token: jwt({ aud: 'vm', exp: STARTED / 1000 + 90 }),
        token_type: 'bEaReR',
      }),
      STARTED + 90_000,
    ],
  ])('accepts %s', (_name, text, expiresAtMs) => {
    const token = readTokenAnswer(200, text, STARTED, ['vm']);
    expect(token.issuedAtMs).toBe(STARTED);
    expect(token.expiresAtMs).toBe(expiresAtMs);
    expect(token.accessToken).toBe(JSON.parse(text).access_token);
  });

  it.each<[string, number, string, TokenFailureKind, string]>([
    ['no JSON', 200, 'not json', 'transport', 'token-exchange answered 200 without JSON'],
    ['JSON null', 502, 'null', 'transport', 'token-exchange answered 502 without JSON'],
    [
      'a refusal',
      400,
      '{"error":"invalid_target","error_description":"nope"}',
      'refused',
      'token-exchange refused (invalid_target)',
    ],
    [
      'a 5xx with an error code',
      503,
      '{"error":"temporarily_unavailable"}',
      'transport',
      'token-exchange answered 503 (temporarily_unavailable)',
    ],
    ['a 429', 429, '{"error":"slow_down"}', 'transport', 'token-exchange answered 429 (slow_down)'],
    ['a 408', 408, '{"error":"timeout"}', 'transport', 'token-exchange answered 408 (timeout)'],
    [
      'an error code that is not a short word',
      400,
      '{"error":"eyJhbGciOiJub25lIn0 and more"}',
      'transport',
      'token-exchange answered 400',
    ],
    ['no access_token', 200, answer({}), 'invalid', 'the token answer has no access_token'],
    [
      'an empty access_token',
      200,
      answer({ access_token: '' }),
      'invalid',
      'the token answer has no access_token',
    ],
    [
      'token_type DPoP',
      200,
      answer({ access_token: 'opaque', token_type: 'DPoP' }),
      'invalid',
      'the token answer has a token_type other than Bearer',
    ],
    [
      'an aud without the target',
      200,
      answer({ access_token: jwt({ aud: ['db'], exp: STARTED / 1000 + 60 }) }),
      'invalid',
      'the issued token\'s aud does not contain "vm"',
    ],
    [
      'no lifetime',
      200,
      JSON.stringify({ access_token: 'opaque', token_type: 'Bearer' }),
      'invalid',
      'the token answer has neither expires_in nor exp',
    ],
    [
      'a token born expired',
      200,
      answer({ access_token: jwt({ aud: 'vm', exp: STARTED / 1000 }) }),
      'invalid',
      'the issued token has already expired',
    ],
  ])('refuses %s', (_name, status, text, kind, message) => {
    const err = failure(status, text);
    expect(err.kind).toBe(kind);
    expect(err.message).toBe(message);
  });

  it('keeps the RFC error code and, bounded, the server description for the log', () => {
    const err = failure(
      401,
      JSON.stringify({ error: 'invalid_client', error_description: 'x'.repeat(500) }),
    );
    expect(err.oauthError).toBe('invalid_client');
    expect(err.detail).toBe('x'.repeat(200));
  });

  it('names every target when aud holds none of them', () => {
    const text = answer({ access_token: jwt({ aud: 'db', exp: STARTED / 1000 + 60 }) });
    expect(failure(200, text, ['vm', 'https://vm.example']).message).toBe(
      'the issued token\'s aud does not contain "vm" or "https://vm.example"',
    );
  });
});
