import type { ServicePolicy } from './config.js';
import { OAuthError } from './oauth-error.js';
import type { TokenRequest } from './token-request.js';

/** RFC 8707 §2: a resource is an absolute URI without a fragment. */
function isResourceIndicator(value: string): boolean {
  return /^[A-Za-z][A-Za-z0-9+.-]*:[^\s#]+$/.test(value) && URL.canParse(value);
}

/**
 * The single target the token will carry in aud: one `audience` (RFC 8693) or one `resource`
 * (RFC 8707, aud = the resource as RFC 9068 §3 says). One target per token keeps a token for
 * one service from being replayed at another (RFC 9068 §5); it must be on the caller's list.
 */
export function resolveAudience(
  request: TokenRequest,
  service: string,
  policy: ServicePolicy | undefined,
): string {
  if (request.scope !== undefined) {
    throw new OAuthError('invalid_scope', 'this server issues no scopes; omit the scope parameter');
  }
  const bad = request.resources.find((r) => !isResourceIndicator(r));
  if (bad !== undefined) {
    throw new OAuthError(
      'invalid_target',
      'resource must be an absolute URI without a fragment (RFC 8707)',
    );
  }
  const targets = [...request.audiences, ...request.resources];
  if (targets.length === 0) {
    throw new OAuthError(
      'invalid_request',
      'audience or resource is required: name the service the token is for',
    );
  }
  if (targets.length > 1) {
    throw new OAuthError('invalid_target', 'request one audience or one resource per token');
  }
  const target = targets[0]!;
  if (!policy?.audiences.includes(target)) {
    const what = request.resources.length > 0 ? 'resource' : 'audience';
    throw new OAuthError(
      'invalid_target',
      `service ${JSON.stringify(service)} may not request tokens for ${what} ${JSON.stringify(target)}`,
    );
  }
  return target;
}
