import { describe, expect, it } from 'vitest';
import { assertOneCredential, bearerCredential } from '../../../../src/check/inbound/bearer.js';
import { JwtxError } from '../../../../src/errors.js';

function outcome(header: string | undefined): string {
  try {
    // As the authenticate phase reads a token it has not cached: the credential, then the scan.
    const token = bearerCredential(header);
    assertOneCredential(token);
    return `token:${token}`;
  } catch (err) {
    expect(err).toBeInstanceOf(JwtxError);
    return (err as JwtxError).code;
  }
}

describe('bearer credentials (RFC 6750 §2.1)', () => {
  it.each([
    ['a Bearer credential', 'Bearer abc.def.ghi', 'token:abc.def.ghi'],
    ['the scheme in lower case', 'bearer abc', 'token:abc'],
    ['the scheme in upper case', 'BEARER abc', 'token:abc'],
    ['several spaces after the scheme', 'Bearer   abc', 'token:abc'],
    ['trailing spaces', 'Bearer abc  ', 'token:abc'],
    ['no header', undefined, 'missing_token'],
    ['an empty header', '', 'missing_token'],
    ['the scheme alone', 'Bearer', 'missing_token'],
    ['an empty Bearer', 'Bearer ', 'missing_token'],
    ['a Bearer of spaces', 'Bearer     ', 'missing_token'],
    ['another scheme', 'Basic YWRtaW46YWRtaW4=', 'missing_token'],
    ['a scheme that only starts with Bearer', 'Bearerx abc', 'missing_token'],
    ['no space after the scheme', 'Bearerabc', 'missing_token'],
    ['a tab instead of a space', 'Bearer\tabc', 'missing_token'],
    ['two tokens separated by a comma', 'Bearer a, Bearer b', 'malformed_token'],
    ['two tokens joined by a comma', 'Bearer a,b', 'malformed_token'],
    ['two tokens separated by a space', 'Bearer a b', 'malformed_token'],
    ['a tab inside the token', 'Bearer a\tb', 'malformed_token'],
  ])('%s', (_name, header, expected) => {
    expect(outcome(header)).toBe(expected);
  });
});
