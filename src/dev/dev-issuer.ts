import { nowSeconds, systemClock } from '../clock.js';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { exportJWK, importJWK, SignJWT, type JWK } from 'jose';
import { generateEcKeyPair } from '../pki/ec-key-pair.js';

/**
 * A development issuer: an ES256 key pair kept in a local directory (created on first use, mode
 * 0600) and its public JWKS. Used by `npm start` and tests; never for production.
 */
const DEV_ISSUER = 'https://dev-issuer.jwtexchange.local';
export const DEV_AUDIENCE = 'gateway';

export interface DevIssuer {
  readonly issuer: string;
  readonly jwksFile: string;
  mint(claims: {
    sub: string;
    aud?: string | string[];
    ttlSeconds?: number;
    [k: string]: unknown;
  }): Promise<string>;
}

export async function ensureDevIssuer(dir: string, issuer = DEV_ISSUER): Promise<DevIssuer> {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const keyFile = path.join(dir, 'dev-issuer-key.json');
  const jwksFile = path.join(dir, 'dev-issuer-jwks.json');
  if (!existsSync(keyFile)) {
    const { privateKey, publicKey } = generateEcKeyPair();
    const kid = randomUUID();
    const priv = { ...(await exportJWK(privateKey)), kid, alg: 'ES256' };
    const pub = { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' };
    writeFileSync(keyFile, JSON.stringify(priv), { mode: 0o600 });
    writeFileSync(jwksFile, JSON.stringify({ keys: [pub] }, null, 2));
  }
  const jwk = JSON.parse(readFileSync(keyFile, 'utf8')) as JWK;
  const key = await importJWK(jwk, 'ES256');
  return {
    issuer,
    jwksFile,
    async mint({ sub, aud = DEV_AUDIENCE, ttlSeconds = 3600, ...extra }) {
      return new SignJWT(extra)
        .setProtectedHeader({ alg: 'ES256', kid: jwk.kid!, typ: 'JWT' })
        .setIssuer(issuer)
        .setSubject(sub)
        .setAudience(aud)
        .setIssuedAt()
        .setJti(randomUUID())
        .setExpirationTime(nowSeconds(systemClock) + ttlSeconds)
        .sign(key);
    },
  };
}
