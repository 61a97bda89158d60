import { describe, expect, it } from 'vitest';
import { JwtxError, type ReasonCode } from '../../../src/errors.js';
import { inspectToken } from '../../../src/jwt/structure.js';
import { assemble, b64url, encodeSegment } from '../../helpers/jwt-forge.js';

const HEADER = { alg: 'ES256', kid: 'k1', typ: 'JWT' };
const CLAIMS = { iss: 'https://issuer', sub: 'svc', aud: 'gateway', exp: 2_000_000_000 };
const SIG = b64url(Buffer.alloc(64, 7));
const token = (
  header: Record<string, unknown> | string = HEADER,
  payload: object | string = CLAIMS,
) => assemble(header, payload as Record<string, unknown>, SIG);

function reasonOf(fn: () => unknown): ReasonCode | 'none' {
  try {
    fn();
    return 'none';
  } catch (err) {
    expect(err).toBeInstanceOf(JwtxError);
    return (err as JwtxError).code;
  }
}

describe('inspectToken', () => {
  it('returns the decoded header and payload of a well-formed compact JWS', () => {
    const t = token();
    expect(inspectToken(t, 8192)).toEqual({
      header: HEADER,
      payload: CLAIMS,
      segments: t.split('.'),
    });
  });

  it('caps the size before parsing anything', () => {
    const t = token();
    expect(reasonOf(() => inspectToken(t, t.length))).toBe('none');
    expect(reasonOf(() => inspectToken(t, t.length - 1))).toBe('token_too_large');
    expect(reasonOf(() => inspectToken('x'.repeat(100_000), 8192))).toBe('token_too_large');
  });

  it.each([
    ['JWE (five parts)', `${encodeSegment({ alg: 'dir', enc: 'A256GCM' })}.a.b.c.d`],
    ['two parts', `${encodeSegment(HEADER)}.${encodeSegment(CLAIMS)}`],
    ['four parts', `${token()}.x`],
    ['a header that is not base64url', `e+J.${encodeSegment(CLAIMS)}.${SIG}`],
    ['an empty header', `.${encodeSegment(CLAIMS)}.${SIG}`],
    ['a header that is not JSON', `${b64url('{alg:ES256')}.${encodeSegment(CLAIMS)}.${SIG}`],
    ['a header that is a JSON array', token('["ES256"]')],
    ['a header without alg', token({ kid: 'k1' })],
    ['a non-string alg', token({ alg: ['ES256'] })],
    ['nested token (cty JWT)', token({ ...HEADER, cty: 'JWT' })],
    ['nested token (cty jwt)', token({ ...HEADER, cty: 'jwt' })],
    ['an empty signature', assemble(HEADER, CLAIMS, '')],
    ['a padded signature', assemble(HEADER, CLAIMS, `${SIG}==`)],
    ['a standard-base64 signature', assemble(HEADER, CLAIMS, 'ab+/cd')],
    ['a payload that is a JSON string', token(HEADER, '"sub"')],
    ['a payload that is null', token(HEADER, 'null')],
    ['an empty payload', `${encodeSegment(HEADER)}..${SIG}`],
    ['duplicate claims', token(HEADER, '{"sub":"admin","sub":"svc"}')],
    ['duplicate header members', token('{"alg":"ES256","alg":"none"}')],
    ['duplicate members inside act', token(HEADER, '{"sub":"u","act":{"sub":"a","sub":"b"}}')],
  ])('refuses %s as malformed_token', (_name, t) => {
    expect(reasonOf(() => inspectToken(t, 8192))).toBe('malformed_token');
  });

  it.each(['none', 'None', 'NONE', 'nOnE'])('refuses alg %s as algorithm_not_allowed', (alg) => {
    expect(reasonOf(() => inspectToken(assemble({ alg }, CLAIMS, ''), 8192))).toBe(
      'algorithm_not_allowed',
    );
  });

  it.each([
    ['jwk', { kty: 'EC' }],
    ['jku', 'https://attacker.example/jwks.json'],
    ['x5u', 'https://attacker.example/cert.pem'],
    ['x5c', ['MIIB']],
    ['crit', ['exp']],
    ['b64', true],
  ])('refuses the %s header parameter as forbidden_header', (param, value) => {
    expect(reasonOf(() => inspectToken(token({ ...HEADER, [param]: value }), 8192))).toBe(
      'forbidden_header',
    );
  });

  it('names the duplicate member but never quotes the token', () => {
    const t = token(HEADER, '{"sub":"admin","sub":"svc"}');
    try {
      inspectToken(t, 8192);
      expect.unreachable();
    } catch (err) {
      expect((err as Error).message).toContain('"sub"');
      for (const part of t.split('.')) expect((err as Error).message).not.toContain(part);
    }
  });
});
