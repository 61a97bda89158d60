import { describe, expect, it } from 'vitest';
import { resolveAudience } from '../../../src/token-exchange/audience-policy.js';
import { grantLabel } from '../../../src/token-exchange/grants.js';
import { OAuthError } from '../../../src/token-exchange/oauth-error.js';
import { parseTokenRequest, type TokenRequest } from '../../../src/token-exchange/token-request.js';

const errorOf = (fn: () => unknown): OAuthError => {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(OAuthError);
    return err as OAuthError;
  }
  throw new Error('expected an OAuthError');
};

describe('parseTokenRequest', () => {
  it('decodes the RFC 8693 parameters', () => {
    const r = parseTokenRequest(
      'grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Atoken-exchange&subject_token=abc' +
        '&subject_token_type=urn%3Aietf%3Aparams%3Aoauth%3Atoken-type%3Ajwt&audience=a&audience=b&resource=https%3A%2F%2Fr',
    );
    expect(r).toMatchObject({
      grantType: 'urn:ietf:params:oauth:grant-type:token-exchange',
      subjectToken: 'abc',
      subjectTokenType: 'urn:ietf:params:oauth:token-type:jwt',
      audiences: ['a', 'b'],
      resources: ['https://r'],
    });
  });

  it('treats empty parameters as absent (RFC 6749 §3.1) and ignores unknown ones', () => {
    const r = parseTokenRequest('grant_type=client_credentials&scope=&audience=&foo=bar');
    expect(r.scope).toBeUndefined();
    expect(r.audiences).toEqual([]);
  });

  it('refuses a repeated parameter other than audience and resource', () => {
    const e = errorOf(() =>
      parseTokenRequest('grant_type=client_credentials&subject_token=a&subject_token=b'),
    );
    expect(e.code).toBe('invalid_request');
    expect(e.description).toBe('parameter subject_token is repeated');
  });

  it('requires grant_type', () => {
    expect(errorOf(() => parseTokenRequest('audience=x')).description).toBe(
      'grant_type is required',
    );
  });
});

describe('resolveAudience', () => {
  const base: TokenRequest = {
    grantType: 'client_credentials',
    audiences: ['vmcontroller'],
    resources: [],
  };
  const policy = { audiences: ['vmcontroller', 'urn:vmcontroller'], delegate: false };

  it('returns the one allowed audience', () => {
    expect(resolveAudience(base, 'gateway', policy)).toBe('vmcontroller');
  });

  it('returns the one allowed RFC 8707 resource, which becomes the aud', () => {
    const request = { ...base, audiences: [], resources: ['urn:vmcontroller'] };
    expect(resolveAudience(request, 'gateway', policy)).toBe('urn:vmcontroller');
  });

  it.each([
    [{ audiences: [] }, 'invalid_request'],
    [{ audiences: ['vmcontroller', 'billing'] }, 'invalid_target'],
    [{ audiences: ['billing'] }, 'invalid_target'],
    [{ resources: ['urn:vmcontroller'] }, 'invalid_target'],
    [{ audiences: [], resources: ['https://vmcontroller'] }, 'invalid_target'],
    [{ audiences: [], resources: ['urn:vmcontroller#frag'] }, 'invalid_target'],
    [{ audiences: [], resources: ['vmcontroller'] }, 'invalid_target'],
    [{ scope: 'admin' }, 'invalid_scope'],
  ] as const)('refuses %j with %s', (change, code) => {
    expect(errorOf(() => resolveAudience({ ...base, ...change }, 'gateway', policy)).code).toBe(
      code,
    );
  });

  it('refuses every audience to a service without a policy', () => {
    expect(errorOf(() => resolveAudience(base, 'gateway', undefined)).code).toBe('invalid_target');
  });
});

describe('OAuthError', () => {
  it('carries the RFC 6749 status and JSON shape', () => {
    expect(new OAuthError('invalid_client', 'x').status).toBe(401);
    expect(new OAuthError('invalid_target', 'x').status).toBe(400);
    expect(new OAuthError('invalid_request', 'too big', { status: 413 }).toJSON()).toEqual({
      error: 'invalid_request',
      error_description: 'too big',
    });
  });
});

describe('grantLabel', () => {
  it('maps grant types to a closed set of metric labels', () => {
    expect(grantLabel('client_credentials')).toBe('client_credentials');
    expect(grantLabel('urn:ietf:params:oauth:grant-type:token-exchange')).toBe('token_exchange');
    expect(
      grantLabel(
        'urn:ietf:params:oauth:grant-type:token-exchange',
        'urn:jwtexchange:params:oauth:token-type:saga-id',
      ),
    ).toBe('saga_delegation');
    expect(grantLabel('password')).toBe('unsupported');
    expect(grantLabel(undefined)).toBe('none');
  });
});
