import { ErrorCode, Flag } from './protocol.js';

/** A request's or trailers' header block, once complete (END_HEADERS). */
export interface HeaderBlock {
  readonly streamId: number;
  readonly endStream: boolean;
  /** The HEADERS frame made the stream depend on itself: a stream error once decoded. */
  readonly dependsOnItself: boolean;
  readonly bytes: Buffer;
}

/** CONTINUATION frames one block may take: empty ones would otherwise cost nothing to send. */
const MAX_FRAMES = 64;

interface Pending {
  readonly streamId: number;
  readonly endStream: boolean;
  readonly dependsOnItself: boolean;
  readonly parts: Buffer[];
  size: number;
}

/**
 * Joins a HEADERS frame and its CONTINUATION frames into one block (RFC 9113 §6.2, §6.10):
 * padding and the priority fields are taken off, and the block is bounded in octets and in
 * frames while it grows, so an endless run of CONTINUATION frames (even empty ones) ends the
 * connection instead of filling memory.
 */
export class HeaderBlockAssembler {
  private pending: Pending | undefined;

  constructor(private readonly maxBlockBytes: number) {}

  /** A header block is open: any frame but its CONTINUATION is a connection error. */
  get open(): boolean {
    return this.pending !== undefined;
  }

  /** Returns the complete block, undefined while CONTINUATION frames are due, or an error. */
  headers(flags: number, id: number, payload: Buffer): HeaderBlock | ErrorCode | undefined {
    let start = 0;
    let end = payload.length;
    if (flags & Flag.PADDED) {
      if (payload.length < 1) return ErrorCode.FRAME_SIZE_ERROR;
      end -= payload[0]!;
      start = 1;
    }
    let dependsOnItself = false;
    if (flags & Flag.PRIORITY) {
      if (payload.length < start + 5) return ErrorCode.FRAME_SIZE_ERROR;
      dependsOnItself = (payload.readUInt32BE(start) & 0x7fffffff) === id;
      start += 5;
    }
    if (end < start) return ErrorCode.PROTOCOL_ERROR; // padding longer than the frame
    const endStream = (flags & Flag.END_STREAM) !== 0;
    const fragment = payload.subarray(start, end);
    this.pending = { streamId: id, endStream, dependsOnItself, parts: [fragment], size: 0 };
    return this.grow(flags, fragment.length);
  }

  continuation(flags: number, id: number, payload: Buffer): HeaderBlock | ErrorCode | undefined {
    const pending = this.pending;
    if (!pending || pending.streamId !== id) return ErrorCode.PROTOCOL_ERROR;
    if (pending.parts.length >= MAX_FRAMES) return ErrorCode.ENHANCE_YOUR_CALM;
    pending.parts.push(payload);
    return this.grow(flags, payload.length);
  }

  private grow(flags: number, bytes: number): HeaderBlock | ErrorCode | undefined {
    const pending = this.pending!;
    pending.size += bytes;
    if (pending.size > this.maxBlockBytes) return ErrorCode.ENHANCE_YOUR_CALM;
    if (!(flags & Flag.END_HEADERS)) return undefined;
    this.pending = undefined;
    const { streamId, endStream, dependsOnItself, parts } = pending;
    const bytesOut = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
    return { streamId, endStream, dependsOnItself, bytes: bytesOut };
  }
}
