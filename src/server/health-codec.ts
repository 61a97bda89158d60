import { isUtf8 } from 'node:buffer';
import type { ServiceDefinition } from '@grpc/grpc-js';
import {
  expectWire,
  lenFieldSize,
  varintSize,
  WIRE_LEN,
  WIRE_VARINT,
  WireError,
  WireReader,
  WireWriter,
} from '../envoy/wire.js';

/**
 * grpc.health.v1 on the wire (grpc-proto's grpc/health/v1/health.proto), written by hand on
 * envoy/wire.ts: the generic codec would load protobufjs and parse health.proto at start, which
 * is most of what the health service costs. test/unit/server/health-codec.test.ts checks it
 * against the proto-loader codec of `grpc-health-check` both ways.
 *
 * Decoders never throw: a malformed request comes back as `{ invalid }` so the handler answers
 * INVALID_ARGUMENT (grpc-js would turn a throwing deserializer into INTERNAL). Unknown fields are
 * skipped; a wrong wire type for a known field, a truncated field, an over-long varint, field
 * number 0, a group (proto2 only, never sent by a proto3 peer) or a service name that is not
 * UTF-8 (proto3 strings must be) is malformed.
 */

/** grpc.health.v1's ServingStatus, in the order of its numbers. */
const STATUS_NAMES = ['UNKNOWN', 'SERVING', 'NOT_SERVING', 'SERVICE_UNKNOWN'] as const;
export type ServingStatus = (typeof STATUS_NAMES)[number];
const statusNumber = (status: ServingStatus): number => STATUS_NAMES.indexOf(status);

export interface HealthCheckResponse {
  readonly status: ServingStatus;
}
export interface HealthListResponse {
  readonly statuses: Readonly<Record<string, HealthCheckResponse>>;
}
/** A decoded request, or why it is malformed. */
export type Decoded<T> = T | { readonly invalid: string };
export type HealthCheckRequest = { readonly service: string };
export type HealthListRequest = Record<string, never>;

export const HEALTH_SERVICE_NAME = 'grpc.health.v1.Health';

/** Reads every field of a message; `onField` handles the ones it knows and returns false for the rest. */
function readFields(
  buf: Buffer,
  onField: (r: WireReader, tag: number) => boolean,
): string | undefined {
  try {
    const r = new WireReader(buf);
    while (r.pos < r.end) {
      const tag = r.uint32();
      if (tag >>> 3 === 0) return 'field number 0';
      if (!onField(r, tag)) r.skip(tag & 7);
    }
    return undefined;
  } catch (err) {
    if (err instanceof WireError) return err.message;
    throw err;
  }
}

export function decodeHealthCheckRequest(buf: Buffer): Decoded<HealthCheckRequest> {
  let service = '';
  let notUtf8 = false;
  const invalid = readFields(buf, (r, tag) => {
    if (tag >>> 3 !== 1) return false;
    expectWire(tag & 7, WIRE_LEN, 'service');
    const end = r.lengthEnd();
    notUtf8 = !isUtf8(r.buf.subarray(r.pos, end)); // the last occurrence wins, as for any scalar
    service = r.buf.toString('utf8', r.pos, end);
    r.pos = end;
    return true;
  });
  if (invalid) return { invalid };
  return notUtf8 ? { invalid: 'service is not UTF-8' } : { service };
}

/** HealthListRequest has no fields: anything well-formed is skipped. */
export function decodeHealthListRequest(buf: Buffer): Decoded<HealthListRequest> {
  const invalid = readFields(buf, () => false);
  return invalid ? { invalid } : {};
}

/** proto3: status 0 (UNKNOWN) is the default and is not written. */
function checkResponseSize(status: ServingStatus): number {
  const n = statusNumber(status);
  return n === 0 ? 0 : 1 + varintSize(n);
}

function writeCheckResponse(w: WireWriter, status: ServingStatus): void {
  const n = statusNumber(status);
  if (n === 0) return;
  w.tag(1, WIRE_VARINT);
  w.uint32(n);
}

export function encodeHealthCheckResponse(res: HealthCheckResponse): Buffer {
  const w = new WireWriter(Buffer.allocUnsafe(checkResponseSize(res.status)));
  writeCheckResponse(w, res.status);
  return w.buf;
}

/** map<string, HealthCheckResponse> statuses = 1: one entry message { key = 1, value = 2 } each. */
export function encodeHealthListResponse(res: HealthListResponse): Buffer {
  const entries = Object.entries(res.statuses).map(([key, value]) => {
    const keyBytes = Buffer.byteLength(key, 'utf8');
    const valueSize = checkResponseSize(value.status);
    return { key, keyBytes, value, size: lenFieldSize(keyBytes) + lenFieldSize(valueSize) };
  });
  let total = 0;
  for (const e of entries) total += lenFieldSize(e.size);
  const w = new WireWriter(Buffer.allocUnsafe(total));
  for (const e of entries) {
    w.header(1, e.size);
    w.string(1, e.key, e.keyBytes);
    w.header(2, checkResponseSize(e.value.status));
    writeCheckResponse(w, e.value.status);
  }
  return w.buf;
}

/** The client's side (tests and tools): a request out, a status back. */
export function encodeHealthCheckRequest(req: HealthCheckRequest): Buffer {
  const bytes = Buffer.byteLength(req.service, 'utf8');
  const w = new WireWriter(Buffer.allocUnsafe(bytes === 0 ? 0 : lenFieldSize(bytes)));
  if (bytes > 0) w.string(1, req.service, bytes);
  return w.buf;
}

/** Throws WireError on a malformed response (a client's deserializer may). */
export function decodeHealthCheckResponse(buf: Buffer): HealthCheckResponse {
  let status: ServingStatus = 'UNKNOWN';
  const invalid = readFields(buf, (r, tag) => {
    if (tag >>> 3 !== 1) return false;
    expectWire(tag & 7, WIRE_VARINT, 'status');
    // An enum value this side does not know yet reads as UNKNOWN.
    status = STATUS_NAMES[r.uint32()] ?? 'UNKNOWN';
    return true;
  });
  if (invalid) throw new WireError(invalid);
  return { status };
}

const method = (name: string, responseStream: boolean) => ({
  path: `/${HEALTH_SERVICE_NAME}/${name}`,
  requestStream: false,
  responseStream,
  originalName: name.toLowerCase(),
});

/** Check and Watch carry the same request and response messages. */
const checkCodec = {
  requestSerialize: encodeHealthCheckRequest,
  requestDeserialize: decodeHealthCheckRequest,
  responseSerialize: encodeHealthCheckResponse,
  responseDeserialize: decodeHealthCheckResponse,
};

/** grpc.health.v1.Health for grpc-js, on this codec. */
export function healthServiceDefinition(): ServiceDefinition {
  return {
    Check: { ...method('Check', false), ...checkCodec },
    Watch: { ...method('Watch', true), ...checkCodec },
    List: {
      ...method('List', false),
      requestSerialize: () => Buffer.alloc(0),
      requestDeserialize: decodeHealthListRequest,
      responseSerialize: encodeHealthListResponse,
      // Only the server's side of List is needed; a client uses grpc-health-check's definition.
      responseDeserialize: () => {
        throw new WireError('HealthListResponse decoding is not implemented');
      },
    },
  };
}
