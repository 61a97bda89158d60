/**
 * Why a token request failed. `refused` keeps token-exchange's RFC 6749 §5.2 / RFC 8693 error
 * code; `transport` covers everything before a usable answer (connect, TLS, timeout, bad JSON).
 */
export type TokenFailureKind = 'refused' | 'transport';

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
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'TokenRequestError';
  }

  get deterministic(): boolean {
    return (
      this.kind === 'refused' && this.oauthError !== undefined && DETERMINISTIC.has(this.oauthError)
    );
  }
}
