import { OAuthError } from './oauth-error.js';

export const GRANT_CLIENT_CREDENTIALS = 'client_credentials';
export const GRANT_TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';

export const TOKEN_TYPE_ACCESS_TOKEN = 'urn:ietf:params:oauth:token-type:access_token';
export const TOKEN_TYPE_JWT = 'urn:ietf:params:oauth:token-type:jwt';

/** The token request after form decoding; empty parameters count as absent (RFC 6749 §3.1). */
export interface TokenRequest {
  readonly grantType: string;
  readonly audiences: readonly string[];
  readonly resources: readonly string[];
  readonly scope?: string;
  readonly clientId?: string;
  readonly requestedTokenType?: string;
  readonly subjectToken?: string;
  readonly subjectTokenType?: string;
  readonly actorToken?: string;
  readonly actorTokenType?: string;
}

/** RFC 8693 §2.1 lets these repeat; every other parameter may appear at most once (§3.2). */
const REPEATABLE = new Set(['audience', 'resource']);

/** Decodes an application/x-www-form-urlencoded body. Unknown parameters are ignored. */
export function parseTokenRequest(body: string): TokenRequest {
  const form = new URLSearchParams(body);
  const values = new Map<string, string[]>();
  for (const [name, value] of form) {
    if (value === '') continue;
    const list = values.get(name) ?? [];
    list.push(value);
    values.set(name, list);
  }
  for (const [name, list] of values) {
    if (list.length > 1 && !REPEATABLE.has(name)) {
      throw new OAuthError('invalid_request', `parameter ${name} is repeated`);
    }
  }
  const one = (name: string) => values.get(name)?.[0];
  const grantType = one('grant_type');
  if (grantType === undefined) throw new OAuthError('invalid_request', 'grant_type is required');
  return {
    grantType,
    audiences: values.get('audience') ?? [],
    resources: values.get('resource') ?? [],
    scope: one('scope'),
    clientId: one('client_id'),
    requestedTokenType: one('requested_token_type'),
    subjectToken: one('subject_token'),
    subjectTokenType: one('subject_token_type'),
    actorToken: one('actor_token'),
    actorTokenType: one('actor_token_type'),
  };
}
