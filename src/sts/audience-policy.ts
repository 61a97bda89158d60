import type { ServicePolicy } from './config.js';
import { OAuthError } from './oauth-error.js';
import type { TokenRequest } from './token-request.js';

/**
 * The single audience the token will carry. One audience per token keeps a token for one
 * service from being replayed at another (RFC 9068 §5); it must be on the caller's list.
 */
export function resolveAudience(
  request: TokenRequest,
  service: string,
  policy: ServicePolicy | undefined,
): string {
  if (request.scope !== undefined) {
    throw new OAuthError('invalid_scope', 'this server issues no scopes; omit the scope parameter');
  }
  if (request.resources.length > 0) {
    throw new OAuthError(
      'invalid_target',
      'resource indicators are not supported; name the target service with audience',
    );
  }
  if (request.audiences.length === 0) {
    throw new OAuthError(
      'invalid_request',
      'audience is required: name the service the token is for',
    );
  }
  if (request.audiences.length > 1) {
    throw new OAuthError('invalid_target', 'request one audience per token');
  }
  const audience = request.audiences[0]!;
  if (!policy?.audiences.includes(audience)) {
    throw new OAuthError(
      'invalid_target',
      `service ${JSON.stringify(service)} may not request tokens for audience ${JSON.stringify(audience)}`,
    );
  }
  return audience;
}
