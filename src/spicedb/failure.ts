import { status } from '@grpc/grpc-js';

/** What went wrong talking to SpiceDB, in words an operator can act on. */
export type FailureKind =
  'unreachable' | 'timeout' | 'unauthenticated' | 'schema_mismatch' | 'invalid_argument' | 'other';

export class SpicedbFailure extends Error {
  constructor(
    readonly kind: FailureKind,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'SpicedbFailure';
  }
}

const KIND_BY_CODE: Partial<Record<number, FailureKind>> = {
  [status.UNAVAILABLE]: 'unreachable',
  [status.DEADLINE_EXCEEDED]: 'timeout',
  [status.UNAUTHENTICATED]: 'unauthenticated',
  [status.PERMISSION_DENIED]: 'unauthenticated',
  [status.FAILED_PRECONDITION]: 'schema_mismatch',
  [status.INVALID_ARGUMENT]: 'invalid_argument',
};

/** Turns a grpc-js error into a SpicedbFailure whose message names the cause (never the key). */
export function classifyFailure(err: unknown, endpoint: string, timeoutMs: number): SpicedbFailure {
  if (err instanceof SpicedbFailure) return err;
  const e = err as { code?: unknown; details?: unknown; message?: unknown };
  const code = typeof e.code === 'number' ? e.code : undefined;
  const details = String(e.details ?? e.message ?? err);
  const kind = (code !== undefined && KIND_BY_CODE[code]) || 'other';
  const name = code !== undefined ? (status[code] ?? String(code)) : 'error';
  const message = {
    unreachable: `SpiceDB at ${endpoint} is unreachable (${details})`,
    timeout: `SpiceDB at ${endpoint} did not answer within ${timeoutMs} ms`,
    unauthenticated: `SpiceDB at ${endpoint} rejected the preshared key (${name}: ${details}); check spicedb.presharedKeyFile or presharedKeyEnv`,
    schema_mismatch: `SpiceDB's schema does not match the authorization rules (${details})`,
    invalid_argument: `SpiceDB refused the request as invalid (${details})`,
    other: `SpiceDB call failed (${name}: ${details})`,
  }[kind];
  return new SpicedbFailure(kind, message, { cause: err });
}
