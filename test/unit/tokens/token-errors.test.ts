import { describe, expect, it } from 'vitest';
import { TokenRequestError, type TokenFailureKind } from '../../../src/tokens/token-errors.js';

describe('TokenRequestError.deterministic', () => {
  it.each<[TokenFailureKind, string | undefined, boolean]>([
    ['refused', 'unauthorized_client', true],
    ['refused', 'invalid_target', true],
    ['refused', 'invalid_client', true],
    ['refused', 'invalid_scope', true],
    ['refused', 'invalid_request', false],
    ['refused', 'invalid_grant', false],
    ['refused', 'server_error', false],
    ['refused', 'temporarily_unavailable', false],
    ['refused', undefined, false],
    ['transport', undefined, false],
    ['transport', 'invalid_target', false],
    ['invalid', undefined, true],
  ])('%s (%s) is deterministic: %s', (kind, oauthError, deterministic) => {
    expect(new TokenRequestError(kind, 'why', oauthError).deterministic).toBe(deterministic);
  });

  it('keeps the server detail apart from the message, with its cause', () => {
    const cause = new Error('socket');
    const err = new TokenRequestError('refused', 'token-exchange refused', 'invalid_target', {
      cause,
      detail: 'audience "x" is not allowed',
    });
    expect(err.name).toBe('TokenRequestError');
    expect(err.message).toBe('token-exchange refused');
    expect(err.detail).toBe('audience "x" is not allowed');
    expect(err.oauthError).toBe('invalid_target');
    expect(err.cause).toBe(cause);
    expect(new TokenRequestError('transport', 'down').detail).toBeUndefined();
  });
});
