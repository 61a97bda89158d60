import { JwtxError } from '../errors.js';
import { firstDuplicateMember } from './duplicate-members.js';

/** The parts of a compact JWS that can be read before any key is involved. */
export interface TokenShape {
  readonly header: Record<string, unknown>;
  readonly payload: Record<string, unknown>;
  /** The three base64url segments (header, payload, signature). */
  readonly segments: readonly [string, string, string];
}

const B64URL = /^[A-Za-z0-9_-]*$/;

/** JWS header parameters that would let the token choose its own key or processing rules. */
const FORBIDDEN_HEADER_PARAMS = ['jwk', 'jku', 'x5u', 'x5c', 'crit', 'b64'] as const;

function decodeJsonSegment(segment: string, what: string): Record<string, unknown> {
  if (segment.length === 0 || !B64URL.test(segment)) {
    throw new JwtxError('malformed_token', `${what} is not base64url`);
  }
  const text = Buffer.from(segment, 'base64url').toString('utf8');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new JwtxError('malformed_token', `${what} is not JSON`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new JwtxError('malformed_token', `${what} is not a JSON object`);
  }
  const dup = firstDuplicateMember(text);
  if (dup !== undefined) {
    throw new JwtxError('malformed_token', `${what} repeats the member ${JSON.stringify(dup)}`);
  }
  return value as Record<string, unknown>;
}

/**
 * Structural checks that give precise reasons before jose runs: size, compact JWS form (not JWE,
 * not nested), no duplicate members, no header parameter that would pick its own key.
 */
export function inspectToken(token: string, maxBytes: number): TokenShape {
  if (token.length > maxBytes) {
    throw new JwtxError('token_too_large', `token is longer than ${maxBytes} bytes`);
  }
  const parts = token.split('.');
  if (parts.length === 5)
    throw new JwtxError('malformed_token', 'encrypted tokens (JWE) are not accepted');
  if (parts.length !== 3) throw new JwtxError('malformed_token', 'token is not a compact JWS');
  const [h, p, s] = parts as [string, string, string];
  const header = decodeJsonSegment(h, 'header');
  if (typeof header.alg !== 'string') throw new JwtxError('malformed_token', 'header has no alg');
  if (header.alg.toLowerCase() === 'none') {
    throw new JwtxError('algorithm_not_allowed', 'unsigned tokens (alg none) are not accepted');
  }
  for (const param of FORBIDDEN_HEADER_PARAMS) {
    if (param in header) {
      throw new JwtxError('forbidden_header', `header parameter ${param} is not accepted`);
    }
  }
  if (typeof header.cty === 'string' && header.cty.toUpperCase() === 'JWT') {
    throw new JwtxError('malformed_token', 'nested tokens (cty JWT) are not accepted');
  }
  if (s.length === 0 || !B64URL.test(s)) {
    throw new JwtxError('malformed_token', 'signature is missing or not base64url');
  }
  const payload = decodeJsonSegment(p, 'payload');
  return { header, payload, segments: [h, p, s] };
}
