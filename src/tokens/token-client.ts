import type { Clock } from '../clock.js';
import { httpRequest, HttpClientError } from '../net/http-client.js';
import { MtlsFiles, type MtlsFilesEvent, type TlsMaterial } from './mtls-files.js';
import { readTokenAnswer, type IssuedToken } from './token-answer.js';
import { staticTokenEndpoint, type TokenEndpointSource } from './token-endpoint-source.js';
import { TokenRequestError } from './token-errors.js';

export type { IssuedToken } from './token-answer.js';

const TOKEN_EXCHANGE_GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';

/** What the client needs from outbound.tokenExchange. */
export interface TokenClientSettings {
  readonly tokenUrl?: string | undefined;
  readonly clientId?: string | undefined;
  readonly certFile: string;
  readonly keyFile: string;
  readonly caFile?: string | undefined;
  readonly timeoutMs: number;
}

/**
 * The one target of a token: a logical `audience` name, or an RFC 8707 `resource` URI sent
 * instead of it. The issued token must carry it in aud.
 */
export type TokenTarget =
  | { readonly audience: string; readonly resource?: undefined }
  | { readonly resource: string; readonly audience?: string | undefined };

export interface ExchangeRequest {
  readonly target: TokenTarget;
  /** RFC 8693 §3 subject_token_type. */
  readonly subjectTokenType: string;
  /** RFC 8693 requested_token_type; absent: not sent. */
  readonly requestedTokenType?: string | undefined;
}

/**
 * An RFC 6749 token endpoint reached over mutual TLS (RFC 8705 tls_client_auth, with client_id
 * when configured). Every call has a deadline; failures are TokenRequestError that keep the RFC
 * error code; answers are checked before a token is handed out (token-answer.ts).
 */
export class TokenEndpointClient {
  private readonly tls: MtlsFiles;
  private readonly endpoint: TokenEndpointSource;

  constructor(
    private readonly config: TokenClientSettings,
    private readonly clock: Clock,
    endpoint?: TokenEndpointSource,
    /** A client certificate (re)loaded from disk, or a half-written renewal ignored. */
    onCertificate?: (event: MtlsFilesEvent) => void,
  ) {
    this.tls = new MtlsFiles(config, onCertificate);
    if (!endpoint && !config.tokenUrl) throw new Error('a token endpoint is required');
    this.endpoint = endpoint ?? staticTokenEndpoint(config.tokenUrl!);
  }

  /** The client certificate, key and CA (re-read when they change), also for metadata fetches. */
  tlsMaterial(): TlsMaterial {
    try {
      return this.tls.current();
    } catch (err) {
      // Names the setting and file: `cannot read outbound.tokenExchange.caFile /x (no such file)`.
      throw new TokenRequestError('transport', (err as Error).message, undefined, { cause: err });
    }
  }

  /** client_credentials: a service token for this service (the mTLS identity) and target. */
  serviceToken(target: TokenTarget, scope?: string): Promise<IssuedToken> {
    return this.request(
      { grant_type: 'client_credentials', ...targetParams(target), ...(scope ? { scope } : {}) },
      target,
    );
  }

  /** RFC 8693: exchanges a caller's token for an internal one for the target. */
  exchange(subjectToken: string, request: ExchangeRequest): Promise<IssuedToken> {
    return this.request(
      {
        grant_type: TOKEN_EXCHANGE_GRANT,
        subject_token: subjectToken,
        subject_token_type: request.subjectTokenType,
        ...(request.requestedTokenType ? { requested_token_type: request.requestedTokenType } : {}),
        ...targetParams(request.target),
      },
      request.target,
    );
  }

  private async request(form: Record<string, string>, target: TokenTarget): Promise<IssuedToken> {
    const started = this.clock.now();
    const url = await this.endpoint.resolve();
    // Plain http (loopback only) presents no certificate.
    const material = url.startsWith('https:') ? this.tlsMaterial() : undefined;
    const clientId = this.config.clientId;
    let res;
    try {
      res = await httpRequest(url, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          ...form,
          ...(clientId ? { client_id: clientId } : {}),
        }).toString(),
        timeoutMs: this.config.timeoutMs,
        maxBytes: 64 * 1024,
        ...(material
          ? { cert: material.cert, key: material.key, ...(material.ca ? { ca: material.ca } : {}) }
          : {}),
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
    return readTokenAnswer(res.status, res.body, started, [target.resource ?? target.audience!]);
  }
}

/** RFC 8707 resource replaces audience when configured (one target per token). */
function targetParams(target: TokenTarget): Record<string, string> {
  return target.resource !== undefined
    ? { resource: target.resource }
    : { audience: target.audience };
}
