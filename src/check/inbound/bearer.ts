import { JwtxError } from '../../errors.js';

/**
 * RFC 6750 §2.1: `Authorization: Bearer <token68>`; the scheme is case-insensitive. The credential
 * as sent; whether it is one credential is `assertOneCredential`'s to say, which a token already
 * in the verified cache (compared whole) has passed before.
 */
export function bearerCredential(authorization: string | undefined): string {
  if (authorization === undefined || authorization.length === 0) {
    throw new JwtxError('missing_token', 'no bearer token in the authorization header');
  }
  const space = authorization.indexOf(' ');
  if (space === -1 || authorization.slice(0, space).toLowerCase() !== 'bearer') {
    throw new JwtxError('missing_token', 'the authorization header is not a Bearer credential');
  }
  const token = authorization.slice(space + 1).trim();
  if (token.length === 0) throw new JwtxError('missing_token', 'the Bearer credential is empty');
  return token;
}

/** Envoy joins repeated headers with commas; a token68 has neither commas nor whitespace. */
export function assertOneCredential(token: string): void {
  if (/[\s,]/.test(token)) {
    throw new JwtxError('malformed_token', 'the authorization header carries more than one value');
  }
}
