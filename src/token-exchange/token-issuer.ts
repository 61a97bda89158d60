import { randomUUID } from 'node:crypto';
import { SignJWT, type JWTPayload } from 'jose';
import { nowSeconds, type Clock } from '../clock.js';
import type { KeyStore } from './key-store.js';
import { OAuthError } from './oauth-error.js';

/** RFC 8693 §4.1 actor claim: the current actor, with earlier actors nested inside. */
export interface ActClaim {
  readonly sub: string;
  readonly act?: ActClaim;
}

export interface TokenClaims {
  readonly subject: string;
  /** The service that asked for the token (RFC 8693 §4.3 / RFC 9068 client_id). */
  readonly clientId: string;
  readonly audience: string;
  readonly act?: ActClaim;
  /** The saga a delegated token acts in (docs/delegation.md). */
  readonly saga?: string;
  /** Epoch seconds the token must not outlive (the subject token's exp). */
  readonly notAfter?: number;
}

export interface IssuedToken {
  readonly token: string;
  readonly expiresIn: number;
  readonly claims: JWTPayload;
  readonly kid: string;
}

/**
 * Signs internal access tokens in the RFC 9068 profile: header typ at+jwt, ES256, kid; claims
 * iss, sub, aud, client_id, iat, exp, jti (and act for delegation, saga for saga delegation).
 */
export class TokenIssuer {
  constructor(
    private readonly opts: {
      readonly issuer: string;
      readonly keyStore: KeyStore;
      readonly clock: Clock;
      readonly ttlSeconds: number;
    },
  ) {}

  get issuer(): string {
    return this.opts.issuer;
  }

  async issue(c: TokenClaims): Promise<IssuedToken> {
    const iat = nowSeconds(this.opts.clock);
    const exp = Math.min(iat + this.opts.ttlSeconds, c.notAfter ?? Infinity);
    // A subject token accepted within the clock tolerance after its exp leaves nothing to issue:
    // never a token that is born expired (exp <= iat, a negative expires_in).
    if (exp <= iat) throw new OAuthError('invalid_request', 'subject_token has expired');
    const key = this.opts.keyStore.signingKey();
    const claims: JWTPayload = {
      iss: this.opts.issuer,
      sub: c.subject,
      aud: c.audience,
      client_id: c.clientId,
      iat,
      exp,
      jti: randomUUID(),
      ...(c.act ? { act: c.act } : {}),
      ...(c.saga !== undefined ? { saga: c.saga } : {}),
    };
    const token = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: key.kid })
      .sign(key.privateKey);
    return { token, expiresIn: exp - iat, claims, kid: key.kid };
  }
}
