import { describe, expect, it } from 'vitest';
import { resolveAudience } from '../../../src/token-exchange/audience-policy.js';
import type { ServicePolicy } from '../../../src/token-exchange/config.js';
import { OAuthError } from '../../../src/token-exchange/oauth-error.js';
import type { TokenRequest } from '../../../src/token-exchange/token-request.js';

const POLICY: ServicePolicy = {
  audiences: ['vm', 'https://api.example/v1'],
  delegate: false,
};

const request = (r: Partial<TokenRequest>): TokenRequest => ({
  grantType: 'client_credentials',
  audiences: [],
  resources: [],
  ...r,
});

function refusal(r: Partial<TokenRequest>, policy: ServicePolicy | undefined = POLICY) {
  try {
    resolveAudience(request(r), 'billing', policy);
  } catch (err) {
    expect(err).toBeInstanceOf(OAuthError);
    return (err as OAuthError).toJSON();
  }
  throw new Error('expected a refusal');
}

describe('resolveAudience', () => {
  it.each([
    [{ audiences: ['vm'] }, 'vm'],
    [{ resources: ['https://api.example/v1'] }, 'https://api.example/v1'],
  ])('returns the one allowed target of %o', (r, target) => {
    expect(resolveAudience(request(r), 'billing', POLICY)).toBe(target);
  });

  it.each<[Partial<TokenRequest>, string, RegExp]>([
    [{ audiences: ['vm'], scope: 'read' }, 'invalid_scope', /issues no scopes/],
    [{}, 'invalid_request', /audience or resource is required/],
    [{ audiences: ['vm', 'https://api.example/v1'] }, 'invalid_target', /one audience or one/],
    [
      { audiences: ['vm'], resources: ['https://api.example/v1'] },
      'invalid_target',
      /one audience or one/,
    ],
    [{ resources: ['vm'] }, 'invalid_target', /absolute URI/],
    [{ resources: ['https://api.example/v1#frag'] }, 'invalid_target', /absolute URI/],
    [{ resources: ['https://api.example/v 1'] }, 'invalid_target', /absolute URI/],
    [{ audiences: ['db'] }, 'invalid_target', /^service "billing" .* audience "db"$/],
    [
      { resources: ['https://other.example/'] },
      'invalid_target',
      /^service "billing" .* resource "https:\/\/other.example\/"$/,
    ],
  ])('refuses %o with %s', (r, error, description) => {
    const body = refusal(r);
    expect(body.error).toBe(error);
    expect(body.error_description).toMatch(description);
  });

  it('refuses every target to a service without a policy', () => {
    expect(() => resolveAudience(request({ audiences: ['vm'] }), 'billing', undefined)).toThrow(
      'invalid_target: service "billing" may not request tokens for audience "vm"',
    );
  });
});
