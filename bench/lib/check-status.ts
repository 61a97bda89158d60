import { GRPC_HEADER_BYTES } from './grpc-frame.js';

/**
 * Reads CheckResponse.status.code (field 1 → google.rpc.Status field 1) straight from the wire,
 * without a full protobuf decode, so a load generator can classify every response (OK vs denied)
 * at almost no cost. Returns -1 when the bytes are not a well-formed CheckResponse frame.
 */
export function checkStatusCode(framed: Buffer): number {
  if (framed.length < GRPC_HEADER_BYTES || framed[0] !== 0) return -1;
  const end = GRPC_HEADER_BYTES + framed.readUInt32BE(1);
  if (end > framed.length) return -1;
  const status = findField(framed, GRPC_HEADER_BYTES, end, 1, 2);
  if (status === undefined) return 0; // proto3: an absent status is code 0 (OK)
  if (status === null) return -1;
  const code = findField(framed, status.start, status.end, 1, 0);
  if (code === null) return -1;
  return code === undefined ? 0 : code.value;
}

interface Cursor {
  at: number;
}

interface FieldHit {
  start: number;
  end: number;
  value: number;
}

function readVarint(buf: Buffer, cur: Cursor, end: number): number | null {
  let result = 0;
  let shift = 0;
  while (cur.at < end && shift < 64) {
    const byte = buf[cur.at++]!;
    // Status codes and lengths fit in 32 bits; higher groups only matter for skipping.
    if (shift < 32) result += (byte & 0x7f) * 2 ** shift;
    if ((byte & 0x80) === 0) return result;
    shift += 7;
  }
  return null;
}

/** Finds the first `field` with wire type `wire` in [start, end); null when malformed. */
function findField(
  buf: Buffer,
  start: number,
  end: number,
  field: number,
  wire: 0 | 2,
): FieldHit | undefined | null {
  const cur: Cursor = { at: start };
  while (cur.at < end) {
    const tag = readVarint(buf, cur, end);
    if (tag === null) return null;
    const type = tag & 7;
    const value = type === 0 || type === 2 ? readVarint(buf, cur, end) : 0;
    if (value === null) return null;
    if (tag >>> 3 === field && type === wire) {
      return type === 2 ? { start: cur.at, end: cur.at + value, value } : { start, end, value };
    }
    if (type === 2) cur.at += value;
    else if (type === 1) cur.at += 8;
    else if (type === 5) cur.at += 4;
    else if (type !== 0) return null;
  }
  return cur.at === end ? undefined : null;
}
