/**
 * The `grpc-timeout` request header (gRPC over HTTP/2: "TimeoutValue TimeoutUnit", at most 8
 * digits, unit H, M, S, m, u or n) as milliseconds; undefined when absent, `invalid` when
 * malformed (the call is then refused, as grpc-js refuses it).
 */
const TIMEOUT = /^(\d{1,8})([HMSmun])$/;

const MS_PER_UNIT: Readonly<Record<string, number>> = {
  H: 3_600_000,
  M: 60_000,
  S: 1_000,
  m: 1,
  u: 1e-3,
  n: 1e-6,
};

export function parseGrpcTimeout(
  value: string | string[] | undefined,
): number | 'invalid' | undefined {
  if (value === undefined) return undefined;
  const m = typeof value === 'string' ? TIMEOUT.exec(value) : null;
  if (!m) return 'invalid';
  return Number(m[1]) * MS_PER_UNIT[m[2]!]!;
}
