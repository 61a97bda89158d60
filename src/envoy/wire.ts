/**
 * The protobuf wire format, just enough to read the CheckRequest fields the check uses and to
 * write a CheckResponse (https://protobuf.dev/programming-guides/encoding/). Hand-written because
 * the generic decoder builds every field of every message (addresses, timestamps, metadata) on
 * each check, which is most of the allocation per warm check.
 */

export const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
export const WIRE_LEN = 2;
const WIRE_FIXED32 = 5;

export class WireError extends Error {}

/** A cursor over one protobuf message (or a sub-range of one). */
export class WireReader {
  pos: number;

  constructor(
    readonly buf: Buffer,
    pos = 0,
    readonly end = buf.length,
  ) {
    this.pos = pos;
  }

  /** A varint of up to 32 significant bits (tags, lengths, enums); longer ones are rejected. */
  uint32(): number {
    const buf = this.buf;
    let result = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      if (this.pos >= this.end) throw new WireError('truncated varint');
      const byte = buf[this.pos++]!;
      result |= (byte & 0x7f) << shift;
      if (byte < 0x80) return result >>> 0;
    }
    // A negative int32 is sign-extended to 10 bytes; consume the rest, keep the low 32 bits.
    for (let i = 0; i < 5; i++) {
      if (this.pos >= this.end) throw new WireError('truncated varint');
      if (buf[this.pos++]! < 0x80) return result >>> 0;
    }
    throw new WireError('varint longer than 10 bytes');
  }

  /** The end offset of the length-delimited field that starts here (its length is consumed). */
  lengthEnd(): number {
    const len = this.uint32();
    const end = this.pos + len;
    if (end > this.end) throw new WireError('length past the end of the message');
    return end;
  }

  string(): string {
    const end = this.lengthEnd();
    const s = this.buf.toString('utf8', this.pos, end);
    this.pos = end;
    return s;
  }

  bytes(): Buffer {
    const end = this.lengthEnd();
    const b = Buffer.from(this.buf.subarray(this.pos, end));
    this.pos = end;
    return b;
  }

  /** Skips a field the reader does not need; groups (proto2) are refused. */
  skip(wireType: number): void {
    switch (wireType) {
      case WIRE_VARINT:
        this.uint32();
        return;
      case WIRE_FIXED64:
        this.pos += 8;
        break;
      case WIRE_LEN:
        this.pos = this.lengthEnd();
        return;
      case WIRE_FIXED32:
        this.pos += 4;
        break;
      default:
        throw new WireError(`unsupported wire type ${wireType}`);
    }
    if (this.pos > this.end) throw new WireError('truncated fixed-width field');
  }
}

/** Throws unless a field of the expected number came with the wire type its declaration implies. */
export function expectWire(actual: number, wanted: number, field: string): void {
  if (actual !== wanted) throw new WireError(`${field} has wire type ${actual}, not ${wanted}`);
}

/** Bytes a varint takes. */
export function varintSize(n: number): number {
  return n < 0x80 ? 1 : n < 0x4000 ? 2 : n < 0x200000 ? 3 : n < 0x10000000 ? 4 : 5;
}

/** Appends protobuf fields to a buffer sized up front (see the *Size helpers). */
export class WireWriter {
  pos = 0;

  constructor(readonly buf: Buffer) {}

  uint32(n: number): void {
    while (n >= 0x80) {
      this.buf[this.pos++] = (n & 0x7f) | 0x80;
      n >>>= 7;
    }
    this.buf[this.pos++] = n;
  }

  tag(field: number, wireType: number): void {
    this.uint32((field << 3) | wireType);
  }

  /** A length-delimited field whose content is written next by the caller. */
  header(field: number, length: number): void {
    this.tag(field, WIRE_LEN);
    this.uint32(length);
  }

  string(field: number, value: string, byteLength: number): void {
    this.header(field, byteLength);
    this.pos += this.buf.write(value, this.pos, byteLength, 'utf8');
  }

  raw(bytes: Buffer): void {
    bytes.copy(this.buf, this.pos);
    this.pos += bytes.length;
  }
}

/** Size of a length-delimited field with a one-byte tag (field numbers up to 15). */
export function lenFieldSize(contentLength: number): number {
  return 1 + varintSize(contentLength) + contentLength;
}
