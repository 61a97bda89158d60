import { headersFrames, writeFrameHeader } from './frame-writer.js';
import type { PeerSettings } from './peer-settings.js';
import { DEFAULT_WINDOW, FRAME_HEADER_LENGTH, FrameType, MAX_WINDOW } from './protocol.js';
import type { H2Stream, StreamSink } from './stream.js';

/**
 * What a connection sends on its streams, under the peer's flow control (RFC 9113 §5.2, §6.9):
 * DATA goes out while both the connection's and the stream's send windows allow, in frames of
 * the peer's SETTINGS_MAX_FRAME_SIZE; the rest waits on the stream, with its trailers behind it,
 * until a WINDOW_UPDATE makes room.
 */
export class Outbound implements StreamSink {
  private window = DEFAULT_WINDOW;
  /**
   * Streams with data waiting for a window, in the order they started waiting: a window update
   * walks these, not every open stream, so a peer's stream of WINDOW_UPDATE frames costs no more
   * with 1,024 streams open than with one.
   */
  private readonly waiting: H2Stream[] = [];

  constructor(
    private readonly peer: PeerSettings,
    private readonly send: (frames: Buffer) => void,
    /** Called once END_STREAM has been sent on a stream. */
    private readonly onLocalEnd: (stream: H2Stream) => void,
  ) {}

  /** A connection-level WINDOW_UPDATE; false when it overflows the window (a connection error). */
  grow(increment: number): boolean {
    this.window += increment;
    return this.window <= MAX_WINDOW;
  }

  get hasRoom(): boolean {
    return this.window > 0;
  }

  sendHeaders(stream: H2Stream, block: Uint8Array, endStream: boolean): void {
    stream.headersSent = true;
    this.send(headersFrames(stream.id, block, endStream, this.peer.maxFrameSize));
    if (endStream) this.onLocalEnd(stream);
  }

  sendData(stream: H2Stream, data: Uint8Array): boolean {
    if (stream.queued.length > 0) {
      stream.queued.push(data);
      return false;
    }
    const sent = this.dataFrames(stream, data);
    if (sent === data.length) return true;
    stream.queued.push(data.subarray(sent));
    this.waiting.push(stream);
    return false;
  }

  sendTrailers(stream: H2Stream, block: Uint8Array): void {
    if (stream.queued.length > 0) {
      stream.queuedTrailers = block;
      stream.localEnded = true; // nothing more may be written
      return;
    }
    this.send(headersFrames(stream.id, block, true, this.peer.maxFrameSize));
    this.onLocalEnd(stream);
  }

  /** Sends what waits on a stream while there is room; then its trailers, or says 'drain'. */
  flush(stream: H2Stream): void {
    const waited = stream.queued.length > 0;
    while (stream.queued.length > 0) {
      const data = stream.queued[0]!;
      const sent = this.dataFrames(stream, data);
      if (sent < data.length) {
        stream.queued[0] = data.subarray(sent);
        return;
      }
      stream.queued.shift();
    }
    if (waited) this.unwait(stream);
    const trailers = stream.queuedTrailers;
    if (trailers) {
      stream.queuedTrailers = undefined;
      this.send(headersFrames(stream.id, trailers, true, this.peer.maxFrameSize));
      this.onLocalEnd(stream);
    } else if (!stream.localEnded) {
      stream.consumer?.onDrain?.();
    }
  }

  /** After a window grew: the streams with queued data, in order, while there is room. */
  flushAll(): void {
    if (this.waiting.length === 0) return; // the usual case: no copy of the list
    // Over a copy: each stream that empties leaves the list.
    for (const stream of [...this.waiting]) {
      if (this.window <= 0) return;
      this.flush(stream);
    }
  }

  /** Drops what waits on a stream that is gone. */
  forget(stream: H2Stream): void {
    if (stream.queued.length === 0) return;
    stream.queued.length = 0;
    this.unwait(stream);
  }

  /**
   * A stream is in `waiting` exactly while it has queued data, so only such a stream is looked
   * up here: a window update for a stream with nothing queued costs no search.
   */
  private unwait(stream: H2Stream): void {
    this.waiting.splice(this.waiting.indexOf(stream), 1);
  }

  /** Sends as much of `data` as both windows allow, in frames of the peer's size; returns how much. */
  private dataFrames(stream: H2Stream, data: Uint8Array): number {
    // A window can be negative (the peer lowered SETTINGS_INITIAL_WINDOW_SIZE): no room, not less.
    const room = Math.max(0, Math.min(data.length, this.window, stream.sendWindow));
    if (room === 0 && data.length > 0) return 0;
    const max = this.peer.maxFrameSize;
    const frames = Math.max(1, Math.ceil(room / max));
    const out = Buffer.allocUnsafe(room + frames * FRAME_HEADER_LENGTH);
    let at = 0;
    for (let from = 0, i = 0; i < frames; i++, from += max) {
      const length = Math.min(max, room - from);
      writeFrameHeader(out, at, length, FrameType.DATA, 0, stream.id);
      out.set(data.subarray(from, from + length), at + FRAME_HEADER_LENGTH);
      at += FRAME_HEADER_LENGTH + length;
    }
    this.window -= room;
    stream.sendWindow -= room;
    this.send(out);
    return room;
  }
}
