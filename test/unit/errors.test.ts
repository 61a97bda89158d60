import { status } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import {
  CALLER_MESSAGES,
  ConfigError,
  JwtxError,
  REASON_CODES,
  REASONS,
  type ReasonCode,
} from '../../src/errors.js';

/** The one gRPC code that goes with each HTTP status: Envoy and callers must agree. */
const GRPC_FOR_HTTP: Record<number, number> = {
  200: status.OK,
  400: status.INVALID_ARGUMENT,
  401: status.UNAUTHENTICATED,
  403: status.PERMISSION_DENIED,
  500: status.INTERNAL,
  503: status.UNAVAILABLE,
};

describe('REASONS', () => {
  it('lists its codes in REASON_CODES, in order', () => {
    expect(REASON_CODES).toEqual(Object.keys(REASONS));
  });

  it.each(REASON_CODES)('%s maps to a matching HTTP status and gRPC code', (code) => {
    const reason = REASONS[code];
    expect(Object.keys(GRPC_FOR_HTTP).map(Number)).toContain(reason.http);
    expect(reason.grpc).toBe(GRPC_FOR_HTTP[reason.http]);
  });

  it.each(REASON_CODES)('%s is a bounded metric label with a summary', (code) => {
    expect(code).toMatch(/^[a-z][a-z_]{0,39}$/);
    expect(REASONS[code].summary.length).toBeGreaterThan(0);
  });

  it('allows exactly with the allow codes', () => {
    const allows = REASON_CODES.filter((c) => REASONS[c].grpc === status.OK);
    expect(allows.sort()).toEqual(
      ['allowed', 'delegated', 'dry_run', 'exempt', 'injected', 'passthrough'].sort(),
    );
  });

  it.each<[ReasonCode, number, number]>([
    ['missing_token', 401, status.UNAUTHENTICATED],
    ['token_expired', 401, status.UNAUTHENTICATED],
    ['jwks_unavailable', 503, status.UNAVAILABLE],
    ['permission_denied', 403, status.PERMISSION_DENIED],
    ['spicedb_unavailable', 503, status.UNAVAILABLE],
    ['invalid_saga_id', 400, status.INVALID_ARGUMENT],
    ['bad_request', 400, status.INVALID_ARGUMENT],
    ['internal', 500, status.INTERNAL],
  ])('%s answers %i (gRPC %i)', (code, http, grpc) => {
    expect(REASONS[code].http).toBe(http);
    expect(REASONS[code].grpc).toBe(grpc);
  });
});

describe('CALLER_MESSAGES', () => {
  it('has one fixed sentence for every code, and no other key', () => {
    expect(Object.keys(CALLER_MESSAGES).sort()).toEqual([...REASON_CODES].sort());
    for (const code of REASON_CODES) expect(CALLER_MESSAGES[code].length, code).toBeGreaterThan(0);
  });

  it('gives every denial its own sentence', () => {
    const denials = REASON_CODES.filter((c) => REASONS[c].grpc !== status.OK);
    expect(new Set(denials.map((c) => CALLER_MESSAGES[c])).size).toBe(denials.length);
  });
});

describe('JwtxError', () => {
  it('carries its code, message and cause', () => {
    const cause = new Error('root');
    const err = new JwtxError('unknown_key', 'no key kid=a in https://issuer/jwks', { cause });
    expect(err).toBeInstanceOf(Error);
    expect(err.name).toBe('JwtxError');
    expect(err.code).toBe('unknown_key');
    expect(err.message).toBe('no key kid=a in https://issuer/jwks');
    expect(err.cause).toBe(cause);
  });
});

describe('ConfigError', () => {
  it('names every problem by its key path, the root as (root)', () => {
    const problems = [
      { path: 'inbound.issuers[0].jwksUri', message: 'must be a URL' },
      { path: '', message: 'must be a mapping' },
    ];
    const err = new ConfigError(problems);
    expect(err.name).toBe('ConfigError');
    expect(err.problems).toBe(problems);
    expect(err.message).toBe(
      'invalid configuration:\n' +
        '  - inbound.issuers[0].jwksUri: must be a URL\n' +
        '  - (root): must be a mapping',
    );
  });
});
