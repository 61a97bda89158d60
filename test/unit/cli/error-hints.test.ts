import { describe, expect, it } from 'vitest';
import { refusalHints, transportHints } from '../../../src/cli/error-hints.js';
import { stsUrls } from '../../../src/cli/commands/token.js';

describe('error hints of `jwtexchange token`', () => {
  it('points at the allowlist and its env var for unauthorized_client', () => {
    expect(refusalHints('unauthorized_client').join('\n')).toMatch(
      /allowlist.*ENABLED_TLS_SERVICE_NAME/s,
    );
  });

  it('points at the client CA for invalid_client and at audiences for invalid_target', () => {
    expect(refusalHints('invalid_client').join('\n')).toContain('tls.clientCaFile');
    expect(refusalHints('invalid_target').join('\n')).toContain('services.<name>.audiences');
  });

  it('has a generic hint for unknown errors', () => {
    expect(refusalHints('something_else')).toHaveLength(1);
  });

  it('tells an untrusted server certificate from a refused connection', () => {
    expect(transportHints('SELF_SIGNED_CERT_IN_CHAIN', 'https://x')[0]).toContain('--ca');
    expect(transportHints('UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'https://x')[0]).toContain('--ca');
    expect(transportHints('ECONNREFUSED', 'https://x/token')[0]).toContain(
      'is token-exchange running?',
    );
    expect(transportHints('ERR_TLS_CERT_ALTNAME_INVALID', 'https://x')[0]).toContain('SAN');
  });
});

describe('stsUrls', () => {
  it('derives the token endpoint and JWKS from a base URL or a token URL', () => {
    expect(stsUrls('https://127.0.0.1:8443')).toEqual({
      tokenUrl: 'https://127.0.0.1:8443/token',
      jwksUrl: 'https://127.0.0.1:8443/.well-known/jwks.json',
    });
    expect(stsUrls('https://sts.internal/oauth2/token').tokenUrl).toBe(
      'https://sts.internal/oauth2/token',
    );
  });

  it('refuses plain http: the exchange needs mTLS', () => {
    expect(() => stsUrls('http://127.0.0.1:8443')).toThrow(/https/);
  });
});
