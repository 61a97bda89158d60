import { decodeJwt } from 'jose';
import { TokenRequestError } from './token-errors.js';

/** A token as issued; never used after expiresAtMs. */
export interface IssuedToken {
  readonly accessToken: string;
  readonly issuedAtMs: number;
  readonly expiresAtMs: number;
}

/** RFC 6749 §5.2 error codes are short ASCII words; anything else is not echoed anywhere. */
const ERROR_CODE = /^[A-Za-z0-9_.:-]{1,64}$/;

/** The server's words, bounded, for a log line. */
function describe(value: unknown): string | undefined {
  return typeof value === 'string' ? value.slice(0, 200) : undefined;
}

function refusal(status: number, body: Record<string, unknown>): TokenRequestError {
  const code =
    typeof body.error === 'string' && ERROR_CODE.test(body.error) ? body.error : undefined;
  const detail = describe(body.error_description);
  // RFC 6749 §5.2 refusals come as 400/401. A 5xx, 408 or 429 is the server failing, even with
  // an error code (`temporarily_unavailable`): retry, never tell the caller "refused".
  if (code && status < 500 && status !== 408 && status !== 429) {
    return new TokenRequestError('refused', `token-exchange refused (${code})`, code, { detail });
  }
  return new TokenRequestError(
    'transport',
    `token-exchange answered ${status}${code ? ` (${code})` : ''}`,
    undefined,
    { detail },
  );
}

/** aud (string or array) contains one of the requested targets. */
function audienceMatches(aud: unknown, wanted: readonly string[]): boolean {
  const list = typeof aud === 'string' ? [aud] : Array.isArray(aud) ? aud : [];
  return list.some((a) => typeof a === 'string' && wanted.includes(a));
}

/**
 * Reads a token endpoint answer (RFC 6749 §5.1/§5.2, RFC 8693 §2.2). A success must carry an
 * access_token of token_type Bearer (case-insensitive, §7.1) and a lifetime; a JWT must name one
 * of `targets` in aud, so a token meant for another service is never sent on. The lifetime is
 * the smaller of expires_in and the JWT's own exp. Refusals keep their RFC error code.
 */
export function readTokenAnswer(
  status: number,
  text: string,
  startedMs: number,
  targets: readonly string[],
): IssuedToken {
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(text) as Record<string, unknown>;
    if (body === null || typeof body !== 'object') throw new Error('not an object');
  } catch {
    throw new TokenRequestError('transport', `token-exchange answered ${status} without JSON`);
  }
  if (status !== 200) throw refusal(status, body);
  const token = body.access_token;
  if (typeof token !== 'string' || token.length === 0) {
    throw new TokenRequestError('invalid', 'the token answer has no access_token');
  }
  if (typeof body.token_type !== 'string' || body.token_type.toLowerCase() !== 'bearer') {
    throw new TokenRequestError(
      'invalid',
      'the token answer has a token_type other than Bearer',
      undefined,
      {
        detail: `token_type ${JSON.stringify(describe(body.token_type) ?? null)}`,
      },
    );
  }
  let claims: Record<string, unknown> | undefined;
  try {
    claims = decodeJwt(token);
  } catch {
    claims = undefined; // An opaque token: expires_in alone decides, aud cannot be read.
  }
  if (claims && !audienceMatches(claims.aud, targets)) {
    throw new TokenRequestError(
      'invalid',
      `the issued token's aud does not contain ${targets.map((t) => JSON.stringify(t)).join(' or ')}`,
    );
  }
  const exp = typeof claims?.exp === 'number' ? claims.exp * 1000 : Infinity;
  const expiresIn = body.expires_in;
  const fromExpiresIn =
    typeof expiresIn === 'number' && expiresIn > 0 ? startedMs + expiresIn * 1000 : Infinity;
  // Never trust a lifetime longer than the token's own exp.
  const expiresAtMs = Math.min(exp, fromExpiresIn);
  if (!Number.isFinite(expiresAtMs)) {
    throw new TokenRequestError('invalid', 'the token answer has neither expires_in nor exp');
  }
  // A token born expired (exp or expires_in already past) is never cached nor sent on.
  if (expiresAtMs <= startedMs) {
    throw new TokenRequestError('invalid', 'the issued token has already expired');
  }
  return { accessToken: token, issuedAtMs: startedMs, expiresAtMs };
}
