import { describe, expect, it } from 'vitest';
import {
  discoveryDocument,
  discoveryPaths,
  JWKS_PATH,
  TOKEN_PATH,
} from '../../../src/token-exchange/well-known.js';

const ROOT_PATHS = ['/.well-known/openid-configuration', '/.well-known/oauth-authorization-server'];

describe('discoveryPaths', () => {
  it.each([
    ['https://sts.example', ROOT_PATHS],
    ['https://sts.example/', ROOT_PATHS],
    [
      'https://sts.example/tenant/a',
      [
        ...ROOT_PATHS,
        '/.well-known/oauth-authorization-server/tenant/a',
        '/tenant/a/.well-known/openid-configuration',
      ],
    ],
    [
      'https://sts.example/tenant///',
      [
        ...ROOT_PATHS,
        '/.well-known/oauth-authorization-server/tenant',
        '/tenant/.well-known/openid-configuration',
      ],
    ],
  ])('%s is served at %o', (issuer, paths) => {
    expect(discoveryPaths(issuer)).toEqual(paths);
  });

  it('handles a long run of trailing slashes', () => {
    expect(discoveryPaths(`https://sts.example/t${'/'.repeat(100_000)}`)).toContain(
      '/t/.well-known/openid-configuration',
    );
  });
});

describe('discoveryDocument', () => {
  it('names the endpoints under the base URL and only mTLS client authentication', () => {
    const doc = discoveryDocument('https://sts.example', 'https://sts.internal:8443');
    expect(TOKEN_PATH).toBe('/token');
    expect(JWKS_PATH).toBe('/.well-known/jwks.json');
    expect(doc).toMatchObject({
      issuer: 'https://sts.example',
      token_endpoint: 'https://sts.internal:8443/token',
      jwks_uri: 'https://sts.internal:8443/.well-known/jwks.json',
      token_endpoint_auth_methods_supported: ['tls_client_auth'],
      mtls_endpoint_aliases: { token_endpoint: 'https://sts.internal:8443/token' },
      grant_types_supported: [
        'client_credentials',
        'urn:ietf:params:oauth:grant-type:token-exchange',
      ],
      access_token_signing_alg_values_supported: ['ES256'],
    });
  });
});
