import { FRAME_HEADER_LENGTH, PREFACE } from './protocol.js';

/** Called per whole frame; returns false to stop reading (the connection is closing). */
export type OnFrame = (type: number, flags: number, streamId: number, payload: Buffer) => boolean;

export type ReadProblem = 'bad-preface' | 'frame-too-large';

/**
 * Cuts the bytes of a connection into frames, after the client preface (RFC 9113 §3.4). A frame
 * split over reads is joined once, when all of it has arrived, so a peer dribbling bytes costs
 * linear work; a frame longer than our SETTINGS_MAX_FRAME_SIZE is refused from its header alone,
 * before its payload is buffered.
 */
export class FrameReader {
  private buf: Buffer = Buffer.alloc(0);
  private readonly later: Buffer[] = [];
  private laterBytes = 0;
  /** Bytes needed in `buf` before parsing can go on. */
  private needed = PREFACE.length;
  private prefaceSeen = false;

  constructor(private readonly maxFrameSize: number) {}

  push(chunk: Buffer, onFrame: OnFrame): ReadProblem | undefined {
    if (this.buf.length === 0 && this.laterBytes === 0) {
      this.buf = chunk;
    } else {
      this.later.push(chunk);
      this.laterBytes += chunk.length;
      if (this.buf.length + this.laterBytes < this.needed) return undefined;
      this.buf = Buffer.concat([this.buf, ...this.later]);
      this.later.length = 0;
      this.laterBytes = 0;
    }
    return this.parse(onFrame);
  }

  private parse(onFrame: OnFrame): ReadProblem | undefined {
    const buf = this.buf;
    let at = 0;
    if (!this.prefaceSeen) {
      const n = Math.min(buf.length, PREFACE.length);
      if (!buf.subarray(0, n).equals(PREFACE.subarray(0, n))) return 'bad-preface';
      if (n < PREFACE.length) return undefined;
      this.prefaceSeen = true;
      at = PREFACE.length;
    }
    for (;;) {
      if (buf.length - at < FRAME_HEADER_LENGTH) break;
      const length = (buf[at]! << 16) | (buf[at + 1]! << 8) | buf[at + 2]!;
      if (length > this.maxFrameSize) return 'frame-too-large';
      const end = at + FRAME_HEADER_LENGTH + length;
      if (buf.length < end) {
        this.needed = end - at;
        this.buf = buf.subarray(at);
        return undefined;
      }
      const streamId = buf.readUInt32BE(at + 5) & 0x7fffffff;
      const payload = buf.subarray(at + FRAME_HEADER_LENGTH, end);
      const more = onFrame(buf[at + 3]!, buf[at + 4]!, streamId, payload);
      at = end;
      if (!more) break;
    }
    this.needed = FRAME_HEADER_LENGTH;
    this.buf = at === buf.length ? Buffer.alloc(0) : buf.subarray(at);
    return undefined;
  }
}
