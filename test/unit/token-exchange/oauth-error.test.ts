import { describe, expect, it } from 'vitest';
import { OAuthError, type OAuthErrorCode } from '../../../src/token-exchange/oauth-error.js';

describe('OAuthError', () => {
  it.each<[OAuthErrorCode, number]>([
    ['invalid_request', 400],
    ['invalid_client', 401],
    ['unauthorized_client', 400],
    ['unsupported_grant_type', 400],
    ['invalid_scope', 400],
    ['invalid_target', 400],
    ['server_error', 500],
  ])('%s answers HTTP %i (RFC 6749 §5.2)', (code, httpStatus) => {
    const err = new OAuthError(code, 'why');
    expect(err.status).toBe(httpStatus);
    expect(err.code).toBe(code);
  });

  it('takes an explicit status over the default', () => {
    expect(new OAuthError('server_error', 'busy', { status: 503 }).status).toBe(503);
  });

  it('sends only error and error_description in its JSON body', () => {
    const cause = new Error('internal detail');
    const err = new OAuthError('invalid_target', 'audience "x" is not allowed', { cause });
    expect(JSON.parse(JSON.stringify(err))).toEqual({
      error: 'invalid_target',
      error_description: 'audience "x" is not allowed',
    });
    expect(err.name).toBe('OAuthError');
    expect(err.message).toBe('invalid_target: audience "x" is not allowed');
    expect(err.cause).toBe(cause);
  });
});
