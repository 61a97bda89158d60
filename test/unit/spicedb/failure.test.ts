import { status } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { classifyFailure, SpicedbFailure, type FailureKind } from '../../../src/spicedb/failure.js';

const grpcError = (code: number, details: string) =>
  Object.assign(new Error(`${code} ${status[code]}: ${details}`), { code, details });

describe('classifyFailure', () => {
  it.each<[number, FailureKind, string]>([
    [status.UNAVAILABLE, 'unreachable', 'SpiceDB at db:50051 is unreachable (connect refused)'],
    [status.DEADLINE_EXCEEDED, 'timeout', 'SpiceDB at db:50051 did not answer within 250 ms'],
    [
      status.UNAUTHENTICATED,
      'unauthenticated',
      'SpiceDB at db:50051 rejected the preshared key (UNAUTHENTICATED: connect refused); check spicedb.presharedKeyFile or presharedKeyEnv',
    ],
    [
      status.PERMISSION_DENIED,
      'unauthenticated',
      'SpiceDB at db:50051 rejected the preshared key (PERMISSION_DENIED: connect refused); check spicedb.presharedKeyFile or presharedKeyEnv',
    ],
    [
      status.FAILED_PRECONDITION,
      'schema_mismatch',
      "SpiceDB's schema does not match the authorization rules (connect refused)",
    ],
    [
      status.INVALID_ARGUMENT,
      'invalid_argument',
      'SpiceDB refused the request as invalid (connect refused)',
    ],
    [status.INTERNAL, 'other', 'SpiceDB call failed (INTERNAL: connect refused)'],
    [status.NOT_FOUND, 'other', 'SpiceDB call failed (NOT_FOUND: connect refused)'],
  ])('gRPC code %i is %s', (code, kind, message) => {
    const err = grpcError(code, 'connect refused');
    const failure = classifyFailure(err, 'db:50051', 250);
    expect(failure).toBeInstanceOf(SpicedbFailure);
    expect(failure.name).toBe('SpicedbFailure');
    expect(failure.kind).toBe(kind);
    expect(failure.message).toBe(message);
    expect(failure.cause).toBe(err);
  });

  it('names an unknown numeric code by its number', () => {
    const failure = classifyFailure({ code: 99, details: 'odd' }, 'db:50051', 250);
    expect(failure.kind).toBe('other');
    expect(failure.message).toBe('SpiceDB call failed (99: odd)');
  });

  it('classifies an error without a code as other, from its message', () => {
    const failure = classifyFailure(new Error('socket hang up'), 'db:50051', 250);
    expect(failure.kind).toBe('other');
    expect(failure.message).toBe('SpiceDB call failed (error: socket hang up)');
    expect(classifyFailure('boom', 'db:50051', 250).message).toBe(
      'SpiceDB call failed (error: boom)',
    );
  });

  it('passes a SpicedbFailure through unchanged', () => {
    const failure = new SpicedbFailure('timeout', 'already classified');
    expect(classifyFailure(failure, 'db:50051', 250)).toBe(failure);
  });
});
