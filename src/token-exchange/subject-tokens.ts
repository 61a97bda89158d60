import { jwtVerify, type JWTPayload } from 'jose';
import type { Clock } from '../clock.js';
import { JwtxError } from '../errors.js';
import { inspectToken } from '../jwt/structure.js';
import { toJwtxError, TokenVerifier, type TrustedIssuer } from '../jwt/verifier.js';
import type { KeyStore } from './key-store.js';
import { OAuthError } from './oauth-error.js';
import { TOKEN_TYPE_ACCESS_TOKEN, TOKEN_TYPE_JWT } from './token-request.js';

export interface SubjectTokenOptions {
  /** This server's issuer: its own tokens are verified against its own keys. */
  readonly issuer: string;
  readonly keyStore: KeyStore;
  /** auth.service and any other issuer whose user tokens may be exchanged. */
  readonly external: readonly TrustedIssuer[];
  readonly clock: Clock;
  readonly maxTokenBytes: number;
  readonly clockToleranceSeconds: number;
}

const ACCEPTED_TYPES = new Set([TOKEN_TYPE_JWT, TOKEN_TYPE_ACCESS_TOKEN]);

/**
 * Verifies RFC 8693 subject and actor tokens. A token from an external issuer is checked
 * against that issuer's keys, algorithms and audiences. A token from this server is accepted
 * only if it was issued for the caller (aud contains the calling service), so a service can
 * pass on the identity it received but cannot pick up tokens meant for others.
 */
export class SubjectTokens {
  private readonly external: TokenVerifier;

  constructor(private readonly opts: SubjectTokenOptions) {
    this.external = new TokenVerifier({
      issuers: opts.external,
      clock: opts.clock,
      maxTokenBytes: opts.maxTokenBytes,
      clockToleranceSeconds: opts.clockToleranceSeconds,
    });
  }

  /** The verified claims of subject_token, or OAuthError invalid_request (RFC 8693 §2.2.2). */
  async verifySubject(
    token: string,
    type: string | undefined,
    caller: string,
  ): Promise<JWTPayload> {
    checkType('subject_token', type);
    return this.guard('subject_token', async () => {
      const { payload } = inspectToken(token, this.opts.maxTokenBytes);
      if (payload.iss === this.opts.issuer) return this.verifyOwn(token, caller);
      return (await this.external.verify(token)).claims;
    });
  }

  /** An actor token must be this server's service token for the caller itself. */
  async verifyActor(token: string, type: string | undefined, caller: string): Promise<JWTPayload> {
    checkType('actor_token', type);
    const claims = await this.guard('actor_token', async () => {
      inspectToken(token, this.opts.maxTokenBytes);
      return this.verifyOwn(token, undefined);
    });
    if (claims.sub !== caller || claims.client_id !== caller || claims.act !== undefined) {
      throw new OAuthError(
        'invalid_request',
        'actor_token must be a service token issued by this server to the calling service',
      );
    }
    return claims;
  }

  private async verifyOwn(token: string, audience: string | undefined): Promise<JWTPayload> {
    const { payload } = await jwtVerify(
      token,
      (header) => {
        const key = header.kid ? this.opts.keyStore.publicKey(header.kid) : undefined;
        if (!key) throw new JwtxError('unknown_key', 'no published key matches the token kid');
        return key;
      },
      {
        issuer: this.opts.issuer,
        algorithms: ['ES256'],
        typ: 'at+jwt',
        clockTolerance: this.opts.clockToleranceSeconds,
        currentDate: new Date(this.opts.clock.now()),
        requiredClaims: ['exp', 'sub', 'client_id'],
        ...(audience !== undefined ? { audience } : {}),
      },
    );
    if (typeof payload.sub !== 'string' || payload.sub.length === 0) {
      throw new JwtxError('invalid_claims', 'sub must be a non-empty string');
    }
    return payload;
  }

  private async guard(what: string, verify: () => Promise<JWTPayload>): Promise<JWTPayload> {
    try {
      return await verify();
    } catch (err) {
      const reason = toJwtxError(err);
      if (reason.code === 'jwks_unavailable') {
        throw new OAuthError('server_error', `${what}: ${reason.message}`, { status: 503 });
      }
      throw new OAuthError('invalid_request', `${what} is not acceptable: ${reason.message}`);
    }
  }
}

function checkType(what: string, type: string | undefined): void {
  if (type === undefined) throw new OAuthError('invalid_request', `${what}_type is required`);
  if (!ACCEPTED_TYPES.has(type)) {
    throw new OAuthError(
      'invalid_request',
      `${what}_type must be ${TOKEN_TYPE_JWT} or ${TOKEN_TYPE_ACCESS_TOKEN}`,
    );
  }
}
