/**
 * Why a token request failed. `refused` keeps the server's RFC 6749 §5.2 / RFC 8693 error code;
 * `transport` covers everything before an answer (connect, TLS, timeout, not JSON, 5xx without
 * an error code, metadata not loadable); `invalid` is a success answer that cannot be used
 * (token_type not Bearer, no access_token, no lifetime, aud without the requested target).
 */
export type TokenFailureKind = 'refused' | 'transport' | 'invalid';

/** Refusals that will not change by retrying: cached briefly instead of hammering token-exchange. */
const DETERMINISTIC = new Set([
  'unauthorized_client',
  'invalid_target',
  'invalid_client',
  'invalid_scope',
]);

export class TokenRequestError extends Error {
  constructor(
    readonly kind: TokenFailureKind,
    message: string,
    /** RFC error code from the answer (`refused` only). */
    readonly oauthError?: string,
    options?: {
      cause?: unknown;
      /** The server's own words (error_description…): for logs only, never for a deny. */
      detail?: string;
    },
  ) {
    super(message, options);
    this.name = 'TokenRequestError';
    this.detail = options?.detail;
  }

  readonly detail: string | undefined;

  /** Will not change by retrying soon: remembered for cache.refusalTtlMs. */
  get deterministic(): boolean {
    if (this.kind === 'invalid') return true;
    return (
      this.kind === 'refused' && this.oauthError !== undefined && DETERMINISTIC.has(this.oauthError)
    );
  }
}
