import { decodeJwt } from 'jose';
import type { Clock } from '../clock.js';
import type { TokenExchangeConfig } from '../config/sections/outbound.js';
import { httpRequest, HttpClientError } from '../net/http-client.js';
import { MtlsFiles } from './mtls-files.js';
import { TokenRequestError } from './token-errors.js';

export const TOKEN_EXCHANGE_GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';
export const JWT_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:jwt';

/** A token as issued; never used after expiresAtMs. */
export interface IssuedToken {
  readonly accessToken: string;
  readonly issuedAtMs: number;
  readonly expiresAtMs: number;
}

/**
 * The RFC 6749 token endpoint of token-exchange, reached over mTLS. Every call has a deadline;
 * failures are TokenRequestError that keep the RFC error code.
 */
export class TokenEndpointClient {
  private readonly tls: MtlsFiles;

  constructor(
    private readonly config: TokenExchangeConfig,
    private readonly clock: Clock,
  ) {
    this.tls = new MtlsFiles(config);
  }

  /** client_credentials: a service token for this service (the mTLS identity) and audience. */
  serviceToken(audience: string, scope?: string): Promise<IssuedToken> {
    return this.request({
      grant_type: 'client_credentials',
      audience,
      ...(scope ? { scope } : {}),
    });
  }

  /** RFC 8693: exchanges a caller's token for an internal one with the given audience. */
  exchange(subjectToken: string, audience: string): Promise<IssuedToken> {
    return this.request({
      grant_type: TOKEN_EXCHANGE_GRANT,
      subject_token: subjectToken,
      subject_token_type: JWT_TOKEN_TYPE,
      requested_token_type: JWT_TOKEN_TYPE,
      audience,
    });
  }

  private async request(form: Record<string, string>): Promise<IssuedToken> {
    const started = this.clock.now();
    let material;
    try {
      material = this.tls.current();
    } catch (err) {
      // Names the setting and file: `cannot read outbound.tokenExchange.caFile /x (no such file)`.
      throw new TokenRequestError('transport', (err as Error).message, undefined, { cause: err });
    }
    let res;
    try {
      res = await httpRequest(this.config.tokenUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams(form).toString(),
        timeoutMs: this.config.timeoutMs,
        maxBytes: 64 * 1024,
        cert: material.cert,
        key: material.key,
        ...(material.ca ? { ca: material.ca } : {}),
      });
    } catch (err) {
      const message = err instanceof HttpClientError ? err.message : String(err);
      throw new TokenRequestError(
        'transport',
        `token-exchange unreachable: ${message}`,
        undefined,
        { cause: err },
      );
    }
    return parseAnswer(res.status, res.body, started);
  }
}

function parseAnswer(status: number, text: string, started: number): IssuedToken {
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw new TokenRequestError('transport', `token-exchange answered ${status} without JSON`);
  }
  if (status !== 200) {
    const code = typeof body.error === 'string' ? body.error : undefined;
    const description =
      typeof body.error_description === 'string' ? `: ${body.error_description}` : '';
    if (code)
      throw new TokenRequestError(
        'refused',
        `token-exchange refused (${code})${description}`,
        code,
      );
    throw new TokenRequestError('transport', `token-exchange answered ${status}`);
  }
  const token = body.access_token;
  const expiresIn = body.expires_in;
  if (typeof token !== 'string' || token.length === 0) {
    throw new TokenRequestError('transport', 'token-exchange answer has no access_token');
  }
  let exp: number | undefined;
  try {
    const claims = decodeJwt(token);
    exp = typeof claims.exp === 'number' ? claims.exp * 1000 : undefined;
  } catch {
    exp = undefined; // An opaque token: expires_in alone decides.
  }
  const fromExpiresIn =
    typeof expiresIn === 'number' && expiresIn > 0 ? started + expiresIn * 1000 : undefined;
  // Never trust a lifetime longer than the token's own exp.
  const expiresAtMs = Math.min(exp ?? Infinity, fromExpiresIn ?? Infinity);
  if (!Number.isFinite(expiresAtMs)) {
    throw new TokenRequestError(
      'transport',
      'token-exchange answer has neither expires_in nor exp',
    );
  }
  return { accessToken: token, issuedAtMs: started, expiresAtMs };
}
