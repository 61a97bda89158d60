import { JwtxError } from '../../errors.js';

/** RFC 6750 §2.1: `Authorization: Bearer <token68>`; the scheme is case-insensitive. */
export function bearerToken(authorization: string | undefined): string {
  if (authorization === undefined || authorization.length === 0) {
    throw new JwtxError('missing_token', 'no bearer token in the authorization header');
  }
  const space = authorization.indexOf(' ');
  if (space === -1 || authorization.slice(0, space).toLowerCase() !== 'bearer') {
    throw new JwtxError('missing_token', 'the authorization header is not a Bearer credential');
  }
  const token = authorization.slice(space + 1).trim();
  if (token.length === 0) throw new JwtxError('missing_token', 'the Bearer credential is empty');
  if (/[\s,]/.test(token)) {
    throw new JwtxError('malformed_token', 'the authorization header carries more than one value');
  }
  return token;
}
