import { allow } from '../../src/check/decision.js';
import { toCheckResponse } from '../../src/check/response.js';

const CLAIMS = {
  iss: 'https://dev-issuer.jwtexchange.local',
  sub: 'bench-user',
  aud: 'gateway',
  iat: 1_700_000_000,
  exp: 1_700_003_600,
  jti: '00000000-0000-4000-8000-000000000000',
};

/**
 * The one answer of the bare servers (bare-server.ts, bare-http-server.ts): an OK CheckResponse
 * shaped like a real inbound allow, with the identity headers the real server sets.
 */
export const FIXED_ALLOW = toCheckResponse(
  allow(
    'allowed',
    [
      ['x-jwtauth-subject', CLAIMS.sub],
      ['x-jwtauth-issuer', CLAIMS.iss],
      ['x-jwtauth-kind', 'user'],
      ['x-jwtauth-claims', Buffer.from(JSON.stringify(CLAIMS)).toString('base64url')],
    ],
    [],
  ),
  undefined,
);
