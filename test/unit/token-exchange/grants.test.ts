import { describe, expect, it } from 'vitest';
import {
  clientCredentialsGrant,
  grantLabel,
  type GrantLabel,
} from '../../../src/token-exchange/grants.js';
import { OAuthError } from '../../../src/token-exchange/oauth-error.js';

const EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';

describe('grantLabel', () => {
  it.each<[string | undefined, string | undefined, GrantLabel]>([
    [undefined, undefined, 'none'],
    ['client_credentials', undefined, 'client_credentials'],
    [EXCHANGE, 'urn:ietf:params:oauth:token-type:access_token', 'token_exchange'],
    [EXCHANGE, undefined, 'token_exchange'],
    [EXCHANGE, 'urn:jwtexchange:params:oauth:token-type:saga-id', 'saga_delegation'],
    ['password', undefined, 'unsupported'],
    ['CLIENT_CREDENTIALS', undefined, 'unsupported'],
    ['', undefined, 'unsupported'],
  ])('grant_type %o with subject_token_type %o is %s', (grantType, subjectType, label) => {
    expect(grantLabel(grantType, subjectType)).toBe(label);
  });
});

describe('clientCredentialsGrant', () => {
  const caller = { service: 'billing', policy: { audiences: ['vm'], delegate: false } };

  it('issues a token for the calling service itself', () => {
    const grant = clientCredentialsGrant(
      { grantType: 'client_credentials', audiences: ['vm'], resources: [] },
      caller,
    );
    expect(grant).toEqual({ claims: { subject: 'billing', clientId: 'billing', audience: 'vm' } });
  });

  it('refuses an audience off the policy', () => {
    expect(() =>
      clientCredentialsGrant(
        { grantType: 'client_credentials', audiences: ['db'], resources: [] },
        caller,
      ),
    ).toThrow(OAuthError);
  });
});
