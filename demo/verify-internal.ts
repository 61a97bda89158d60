import { readFileSync } from 'node:fs';
import { jwtVerify } from 'jose';
import { systemClock } from '../src/clock.js';
import { httpJwksLoader, JwksSource } from '../src/jwt/jwks-source.js';
import type { TokenCheck } from './apps/jwtauth-context.js';

/** How the demo apps validate internal JWTs themselves in pipeline mode A (their own interceptor). */
export function internalTokenCheck(
  sts: { issuer: string; jwksUrl: string },
  caFile: string,
  audience: string,
): TokenCheck {
  const keys = new JwksSource({
    name: sts.issuer,
    load: httpJwksLoader(sts.jwksUrl, 2_000, readFileSync(caFile)),
    clock: systemClock,
    refreshIntervalMs: 60_000,
    cooldownMs: 500,
    maxStaleMs: 3_600_000,
  });
  return async (token) =>
    (await jwtVerify(token, keys.getKey, { issuer: sts.issuer, audience, algorithms: ['ES256'] }))
      .payload;
}
