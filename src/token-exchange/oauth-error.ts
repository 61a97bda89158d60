/**
 * Token endpoint errors, RFC 6749 §5.2 and RFC 8693 §2.2.2. The description is sent to the
 * client, so it must help the caller fix the request and never quote a token or a key.
 */
export type OAuthErrorCode =
  | 'invalid_request'
  | 'invalid_client'
  | 'unauthorized_client'
  | 'unsupported_grant_type'
  | 'invalid_scope'
  | 'invalid_target'
  | 'server_error';

const STATUS: Record<OAuthErrorCode, number> = {
  invalid_request: 400,
  invalid_client: 401,
  unauthorized_client: 400,
  unsupported_grant_type: 400,
  invalid_scope: 400,
  invalid_target: 400,
  server_error: 500,
};

export class OAuthError extends Error {
  readonly status: number;

  constructor(
    readonly code: OAuthErrorCode,
    readonly description: string,
    options?: { status?: number; cause?: unknown },
  ) {
    super(`${code}: ${description}`, options);
    this.name = 'OAuthError';
    this.status = options?.status ?? STATUS[code];
  }

  toJSON(): { error: OAuthErrorCode; error_description: string } {
    return { error: this.code, error_description: this.description };
  }
}
