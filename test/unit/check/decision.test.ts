import { describe, expect, it } from 'vitest';
import { allow, deny } from '../../../src/check/decision.js';

describe('allow', () => {
  it('allows with no header changes by default', () => {
    expect(allow('passthrough')).toEqual({
      allow: true,
      reason: 'passthrough',
      message: 'ok',
      setHeaders: [],
      removeHeaders: [],
    });
  });

  it('carries the headers to set and to remove', () => {
    const set = [['x-jwtauth-subject', 'alice']] as const;
    const d = allow('allowed', set, ['authorization']);
    expect(d.allow).toBe(true);
    expect(d.setHeaders).toBe(set);
    expect(d.removeHeaders).toEqual(['authorization']);
    expect(d.wouldDeny).toBeUndefined();
  });
});

describe('deny', () => {
  it('denies with the reason and the operator message, and never touches headers', () => {
    expect(deny('token_expired', 'exp 10 s in the past')).toEqual({
      allow: false,
      reason: 'token_expired',
      message: 'exp 10 s in the past',
      setHeaders: [],
      removeHeaders: [],
    });
  });
});
