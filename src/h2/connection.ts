import type { Socket } from 'node:net';
import type { Clock } from '../clock.js';
import { peerAddress } from '../net/address.js';
import {
  SETTINGS_ACK,
  goawayFrame,
  pingAckFrame,
  rstStreamFrame,
  settingsFrame,
  windowUpdateFrame,
} from './frame-writer.js';
import { FrameReader } from './frame-reader.js';
import { HeaderBlockAssembler, type HeaderBlock } from './header-block.js';
import { HpackDecoder } from './hpack-decoder.js';
import { encodeHeaderBlock } from './hpack-encoder.js';
import { OpenStreams } from './open-streams.js';
import { Outbound } from './outbound.js';
import { applySettings, defaultPeerSettings } from './peer-settings.js';
import {
  DEFAULT_MAX_FRAME_SIZE,
  DEFAULT_WINDOW,
  ErrorCode,
  errorName,
  Flag,
  FrameType,
  MAX_WINDOW,
  Setting,
  type ErrorName,
} from './protocol.js';
import { requestHeaders, validTrailers } from './request-headers.js';
import { ResetBudget } from './reset-budget.js';
import { H2Stream } from './stream.js';

/** An HTTP/2 error we sent, by scope and code name, and to whom (`peerAddress`). */
export type ProtocolErrorListener = (
  scope: 'connection' | 'stream',
  error: ErrorName,
  peer: string,
) => void;

export interface H2ConnectionOptions {
  /** SETTINGS_MAX_CONCURRENT_STREAMS: more open streams are refused (REFUSED_STREAM). */
  readonly maxConcurrentStreams: number;
  /** SETTINGS_INITIAL_WINDOW_SIZE: what the peer may send on a stream before our WINDOW_UPDATE. */
  readonly streamWindowBytes: number;
  /**
   * The connection's receive window. Body octets held for requests not yet complete are credited
   * back only when released, so this bounds a connection's buffered request bodies.
   */
  readonly connectionWindowBytes: number;
  /** SETTINGS_MAX_HEADER_LIST_SIZE; a larger request is answered 431. */
  readonly maxHeaderListBytes: number;
  /**
   * Told of each error we send: a connection's GOAWAY (not NO_ERROR) or a stream's RST_STREAM,
   * with the peer's address.
   */
  readonly onProtocolError?: ProtocolErrorListener;
  /** Time for the peer's reset budget (reset-budget.ts); tests move it by hand. */
  readonly clock?: Clock;
}

/** Above this many unsent octets, we stop reading the socket until it drains. */
const WRITE_HIGH_WATER = 1024 * 1024;
const HPACK_TABLE_SIZE = 4096; // the protocol default; we do not advertise another
const RECENT_RESETS = 64;
/** The answer to a header list over our limit (RFC 9113 §8.2.2, RFC 6585). */
const STATUS_431 = encodeHeaderBlock([[':status', '431']]);

/**
 * The server side of one HTTP/2 connection over cleartext TCP with prior knowledge (RFC 9113
 * §3.3). It reads frames, keeps stream states and both directions' flow control, and hands each
 * well-formed request stream to `onStream`. What it sends in one turn of the event loop goes out
 * in one socket write, so a gRPC answer's headers, message and trailers travel together.
 * Protocol errors end the connection with GOAWAY; stream errors reset the stream.
 */
export class H2Connection {
  private readonly reader = new FrameReader(DEFAULT_MAX_FRAME_SIZE);
  private readonly hpack: HpackDecoder;
  private readonly streams = new OpenStreams();
  private readonly peer = defaultPeerSettings();
  private readonly recentResets: number[] = [];
  private readonly peerResets: ResetBudget;
  private lastStreamId = 0;
  private settingsSeen = false;
  private readonly blocks: HeaderBlockAssembler;
  private readonly outbound: Outbound;
  private recvWindow: number;
  private readonly windowSize: number;
  private owedCredit = 0;
  private goawaySent = false;
  private peerGoaway = false;
  private closed = false;
  /** The peer's address for onProtocolError: built on the first error, not per reset. */
  private remote: string | undefined;
  private readonly out: Buffer[] = [];
  private reading = false;
  private flushQueued = false;
  private paused = false;
  private readonly frameHandler = (type: number, flags: number, id: number, payload: Buffer) =>
    this.onFrame(type, flags, id, payload);

  constructor(
    private readonly socket: Socket,
    private readonly options: H2ConnectionOptions,
    private readonly onStream: (stream: H2Stream) => void,
  ) {
    this.peerResets = new ResetBudget(options.clock);
    this.hpack = new HpackDecoder({
      maxTableSize: HPACK_TABLE_SIZE,
      maxHeaderListSize: options.maxHeaderListBytes,
    });
    // The connection window starts at the protocol's 65,535 and can only be grown.
    this.windowSize = Math.max(DEFAULT_WINDOW, options.connectionWindowBytes);
    this.recvWindow = this.windowSize;
    // Encoded blocks are bounded at twice the decoded limit: Huffman codes shrink text, not more.
    this.blocks = new HeaderBlockAssembler(2 * options.maxHeaderListBytes);
    this.outbound = new Outbound(
      this.peer,
      (frames) => this.send(frames),
      (stream) => this.localEnd(stream),
    );
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onBytes(chunk));
    socket.on('error', () => undefined); // 'close' follows, which ends the streams
    socket.on('close', () => this.onSocketClose());
    this.send(
      settingsFrame([
        [Setting.MAX_CONCURRENT_STREAMS, options.maxConcurrentStreams],
        [Setting.INITIAL_WINDOW_SIZE, options.streamWindowBytes],
        [Setting.MAX_HEADER_LIST_SIZE, options.maxHeaderListBytes],
        [Setting.ENABLE_PUSH, 0],
      ]),
    );
    if (this.recvWindow > DEFAULT_WINDOW) {
      this.send(windowUpdateFrame(0, this.recvWindow - DEFAULT_WINDOW));
    }
  }

  /** Graceful close: GOAWAY, no new streams, the socket ends once the open ones have finished. */
  shutdown(): void {
    if (this.closed || this.goawaySent) return;
    this.goawaySent = true;
    this.send(goawayFrame(this.lastStreamId, ErrorCode.NO_ERROR));
    this.endIfIdle();
  }

  /** Cuts the connection and every open stream now. */
  destroy(): void {
    this.socket.destroy();
  }

  private onBytes(chunk: Buffer): void {
    if (this.closed) return;
    this.reading = true;
    let problem;
    try {
      problem = this.reader.push(chunk, this.frameHandler);
    } catch {
      // A bug of ours, here or in a consumer's callback, costs this connection, never the process.
      this.fail(ErrorCode.INTERNAL_ERROR);
    }
    this.reading = false;
    if (problem === 'frame-too-large') this.fail(ErrorCode.FRAME_SIZE_ERROR);
    else if (problem === 'bad-preface') this.fail(ErrorCode.PROTOCOL_ERROR);
    this.flush();
  }

  private onFrame(type: number, flags: number, id: number, payload: Buffer): boolean {
    if (this.blocks.open && type !== FrameType.CONTINUATION) {
      return this.fail(ErrorCode.PROTOCOL_ERROR); // a header block must not be interleaved
    }
    if (!this.settingsSeen && (type !== FrameType.SETTINGS || flags & Flag.ACK)) {
      return this.fail(ErrorCode.PROTOCOL_ERROR); // the preface ends with the client's SETTINGS
    }
    switch (type) {
      case FrameType.DATA:
        return this.onData(flags, id, payload);
      case FrameType.HEADERS:
        if (id === 0 || id % 2 === 0) return this.fail(ErrorCode.PROTOCOL_ERROR);
        return this.onBlock(this.blocks.headers(flags, id, payload));
      case FrameType.CONTINUATION:
        return this.onBlock(this.blocks.continuation(flags, id, payload));
      case FrameType.SETTINGS:
        return this.onSettings(flags, id, payload);
      case FrameType.WINDOW_UPDATE:
        return this.onWindowUpdate(id, payload);
      case FrameType.RST_STREAM:
        return this.onRstStream(id, payload);
      case FrameType.PING:
        if (id !== 0) return this.fail(ErrorCode.PROTOCOL_ERROR);
        if (payload.length !== 8) return this.fail(ErrorCode.FRAME_SIZE_ERROR);
        if (!(flags & Flag.ACK)) this.send(pingAckFrame(payload));
        return true;
      case FrameType.GOAWAY:
        if (id !== 0) return this.fail(ErrorCode.PROTOCOL_ERROR);
        if (payload.length < 8) return this.fail(ErrorCode.FRAME_SIZE_ERROR);
        this.peerGoaway = true;
        this.endIfIdle();
        return true;
      case FrameType.PRIORITY:
        return this.onPriority(id, payload);
      case FrameType.PUSH_PROMISE:
        return this.fail(ErrorCode.PROTOCOL_ERROR); // clients never push (§8.4)
      default:
        return true; // unknown frame types are ignored (§4.1)
    }
  }

  private onSettings(flags: number, id: number, payload: Buffer): boolean {
    if (id !== 0) return this.fail(ErrorCode.PROTOCOL_ERROR);
    if (flags & Flag.ACK) {
      return payload.length === 0 || this.fail(ErrorCode.FRAME_SIZE_ERROR);
    }
    if (payload.length % 6 !== 0) return this.fail(ErrorCode.FRAME_SIZE_ERROR);
    this.settingsSeen = true;
    const applied = applySettings(this.peer, payload);
    if ('error' in applied) return this.fail(applied.error);
    if (applied.windowDelta !== 0) {
      for (const stream of this.streams.list()) {
        stream.sendWindow += applied.windowDelta;
        if (stream.sendWindow > MAX_WINDOW) return this.fail(ErrorCode.FLOW_CONTROL_ERROR);
      }
    }
    this.send(SETTINGS_ACK);
    if (applied.windowDelta > 0) this.outbound.flushAll();
    return true;
  }

  private onWindowUpdate(id: number, payload: Buffer): boolean {
    if (payload.length !== 4) return this.fail(ErrorCode.FRAME_SIZE_ERROR);
    const increment = payload.readUInt32BE(0) & 0x7fffffff;
    if (id === 0) {
      if (increment === 0) return this.fail(ErrorCode.PROTOCOL_ERROR);
      if (!this.outbound.grow(increment)) return this.fail(ErrorCode.FLOW_CONTROL_ERROR);
      this.outbound.flushAll();
      return true;
    }
    if (id > this.lastStreamId) return this.fail(ErrorCode.PROTOCOL_ERROR); // idle stream
    const stream = this.streams.get(id);
    if (!stream) return true; // closed: a late update is harmless
    if (increment === 0) return this.reset(stream, ErrorCode.PROTOCOL_ERROR);
    stream.sendWindow += increment;
    if (stream.sendWindow > MAX_WINDOW) return this.reset(stream, ErrorCode.FLOW_CONTROL_ERROR);
    this.outbound.flush(stream);
    return true;
  }

  private onRstStream(id: number, payload: Buffer): boolean {
    if (id === 0) return this.fail(ErrorCode.PROTOCOL_ERROR);
    if (payload.length !== 4) return this.fail(ErrorCode.FRAME_SIZE_ERROR);
    if (id > this.lastStreamId) return this.fail(ErrorCode.PROTOCOL_ERROR); // idle stream
    const stream = this.streams.get(id);
    if (!stream) return true;
    this.abort(stream);
    return this.peerResets.take() || this.fail(ErrorCode.ENHANCE_YOUR_CALM);
  }

  private onPriority(id: number, payload: Buffer): boolean {
    if (id === 0) return this.fail(ErrorCode.PROTOCOL_ERROR);
    if (payload.length !== 5) return this.resetId(id, ErrorCode.FRAME_SIZE_ERROR);
    // Priorities are not used (RFC 9113 §5.3.2 deprecates them); one on itself is still an error.
    if ((payload.readUInt32BE(0) & 0x7fffffff) === id) {
      return this.resetId(id, ErrorCode.PROTOCOL_ERROR);
    }
    return true;
  }

  // --- requests -------------------------------------------------------------------------------

  private onBlock(block: HeaderBlock | ErrorCode | undefined): boolean {
    if (block === undefined) return true; // CONTINUATION frames are due
    if (typeof block === 'number') return this.fail(block);
    // Every block is decoded, even one whose stream is refused: the HPACK table is shared.
    const decoded = this.hpack.decode(block.bytes);
    if (!decoded.ok) return this.fail(ErrorCode.COMPRESSION_ERROR);
    const id = block.streamId;
    const stream = this.streams.get(id);
    if (stream) return this.onTrailers(stream, block.endStream, decoded.fields);
    if (id <= this.lastStreamId) {
      return this.recentlyReset(id) || this.fail(ErrorCode.STREAM_CLOSED);
    }
    this.lastStreamId = id;
    if (this.goawaySent) return this.resetId(id, ErrorCode.REFUSED_STREAM);
    if (block.dependsOnItself) return this.resetId(id, ErrorCode.PROTOCOL_ERROR);
    if (this.streams.size >= this.options.maxConcurrentStreams) {
      return this.resetId(id, ErrorCode.REFUSED_STREAM);
    }
    return this.openStream(id, block.endStream, decoded.oversize ? undefined : decoded.fields);
  }

  private openStream(id: number, endStream: boolean, fields: string[] | undefined): boolean {
    const headers = fields ? requestHeaders(fields) : undefined;
    if (fields && !headers) return this.resetId(id, ErrorCode.PROTOCOL_ERROR);
    const lengthHeader = headers?.['content-length'];
    const contentLength = lengthHeader === undefined ? undefined : Number(lengthHeader);
    if (endStream && contentLength !== undefined && contentLength !== 0) {
      return this.resetId(id, ErrorCode.PROTOCOL_ERROR);
    }
    const stream = new H2Stream(
      id,
      headers ?? Object.create(null),
      this.outbound,
      this.peer.initialWindow,
      this.options.streamWindowBytes,
      contentLength,
    );
    this.streams.add(stream);
    if (!headers) {
      stream.respondOnly(STATUS_431);
    } else {
      this.onStream(stream);
    }
    if (endStream && !stream.closed) return this.endOfBody(stream);
    return !this.closed;
  }

  private onTrailers(stream: H2Stream, endStream: boolean, fields: string[]): boolean {
    if (stream.remoteEnded) return this.reset(stream, ErrorCode.STREAM_CLOSED);
    if (!endStream || !validTrailers(fields)) return this.reset(stream, ErrorCode.PROTOCOL_ERROR);
    return this.endOfBody(stream);
  }

  private onData(flags: number, id: number, payload: Buffer): boolean {
    if (id === 0) return this.fail(ErrorCode.PROTOCOL_ERROR);
    let data = payload;
    if (flags & Flag.PADDED) {
      if (payload.length < 1 || payload[0]! >= payload.length) {
        return this.fail(ErrorCode.PROTOCOL_ERROR);
      }
      data = payload.subarray(1, payload.length - payload[0]!);
    }
    // The whole frame, padding included, counts against both windows (§6.9.1).
    this.recvWindow -= payload.length;
    if (this.recvWindow < 0) return this.fail(ErrorCode.FLOW_CONTROL_ERROR);
    const stream = this.streams.get(id);
    if (!stream || stream.remoteEnded) {
      this.credit(payload.length);
      if (id > this.lastStreamId) return this.fail(ErrorCode.PROTOCOL_ERROR); // idle stream
      if (this.recentlyReset(id)) return true;
      return stream
        ? this.reset(stream, ErrorCode.STREAM_CLOSED)
        : this.resetId(id, ErrorCode.STREAM_CLOSED);
    }
    stream.recvWindow -= payload.length;
    if (stream.recvWindow < 0) {
      this.credit(payload.length);
      return this.reset(stream, ErrorCode.FLOW_CONTROL_ERROR);
    }
    stream.bodyBytes += data.length;
    if (stream.contentLength !== undefined && stream.bodyBytes > stream.contentLength) {
      this.credit(payload.length);
      return this.reset(stream, ErrorCode.PROTOCOL_ERROR);
    }
    this.deliver(stream, data, payload.length);
    if (flags & Flag.END_STREAM) return this.endOfBody(stream);
    if (stream.recvWindow < this.options.streamWindowBytes / 2) {
      this.send(windowUpdateFrame(id, this.options.streamWindowBytes - stream.recvWindow));
      stream.recvWindow = this.options.streamWindowBytes;
    }
    return true;
  }

  /** Body octets go to the consumer while it wants them (and are held), else are dropped. */
  private deliver(stream: H2Stream, data: Buffer, frameBytes: number): void {
    const consumer = stream.consumer;
    if (consumer?.onData && !stream.localEnded && !stream.closed) {
      stream.held += frameBytes;
      if (data.length > 0) consumer.onData(data);
    } else {
      this.credit(frameBytes);
    }
  }

  private endOfBody(stream: H2Stream): boolean {
    if (stream.contentLength !== undefined && stream.bodyBytes !== stream.contentLength) {
      return this.reset(stream, ErrorCode.PROTOCOL_ERROR);
    }
    stream.remoteEnded = true;
    if (!stream.localEnded) stream.consumer?.onEnd?.();
    this.release(stream);
    if (stream.localEnded && !stream.closed && stream.queued.length === 0) this.finish(stream);
    return !this.closed;
  }

  // --- sending --------------------------------------------------------------------------------

  private localEnd(stream: H2Stream): void {
    stream.localEnded = true;
    this.release(stream); // an answered stream's remaining body is dropped from now on
    if (stream.remoteEnded) this.finish(stream);
    // Else half-closed (local): the rest of the request is read and dropped until END_STREAM.
  }

  // --- stream ends ----------------------------------------------------------------------------

  /** Both sides are done: the stream leaves the connection normally. */
  private finish(stream: H2Stream): void {
    stream.closed = true;
    this.streams.delete(stream.id);
    this.endIfIdle();
  }

  /** The stream is cut before we ended it: the consumer is told (onClose). */
  private abort(stream: H2Stream): void {
    if (stream.closed) return;
    stream.closed = true;
    this.streams.delete(stream.id);
    this.release(stream);
    this.outbound.forget(stream);
    stream.consumer?.onClose?.();
    this.endIfIdle();
  }

  private reset(stream: H2Stream, code: ErrorCode): boolean {
    this.abort(stream);
    return this.resetId(stream.id, code);
  }

  private resetId(id: number, code: ErrorCode): boolean {
    this.send(rstStreamFrame(id, code));
    this.options.onProtocolError?.('stream', errorName(code), this.remoteAddress());
    if (this.recentResets.push(id) > RECENT_RESETS) this.recentResets.shift();
    return true;
  }

  /** Frames the peer sent before it saw our RST_STREAM are ignored (RFC 9113 §5.4.2). */
  private recentlyReset(id: number): boolean {
    return this.recentResets.includes(id);
  }

  // --- connection flow control and output -----------------------------------------------------

  private release(stream: H2Stream): void {
    if (stream.held === 0) return;
    this.credit(stream.held);
    stream.held = 0;
  }

  /** Gives received octets back to the peer's connection window, in updates of half of it. */
  private credit(bytes: number): void {
    this.owedCredit += bytes;
    if (this.owedCredit < this.windowSize / 2) return;
    this.send(windowUpdateFrame(0, this.owedCredit));
    this.recvWindow += this.owedCredit;
    this.owedCredit = 0;
  }

  private send(frames: Buffer): void {
    if (this.closed && !this.socket.writable) return;
    this.out.push(frames);
    if (this.reading || this.flushQueued) return;
    this.flushQueued = true;
    queueMicrotask(() => this.flush());
  }

  private flush(): void {
    this.flushQueued = false;
    if (this.out.length === 0 || !this.socket.writable) return;
    const data = this.out.length === 1 ? this.out[0]! : Buffer.concat(this.out);
    this.out.length = 0;
    this.socket.write(data);
    if (!this.paused && this.socket.writableLength > WRITE_HIGH_WATER) {
      // A peer that does not read stops being read: its requests wait in the kernel, not here.
      this.paused = true;
      this.socket.pause();
      this.socket.once('drain', () => {
        this.paused = false;
        this.socket.resume();
      });
    }
  }

  private remoteAddress(): string {
    return (this.remote ??= peerAddress(this.socket));
  }

  /** A connection error: GOAWAY with the code, then the connection ends. Returns false. */
  private fail(code: ErrorCode): boolean {
    if (this.closed) return false;
    this.send(goawayFrame(this.lastStreamId, code));
    this.options.onProtocolError?.('connection', errorName(code), this.remoteAddress());
    this.endSocket();
    return false;
  }

  private endIfIdle(): void {
    if (this.closed || this.streams.size > 0 || !(this.goawaySent || this.peerGoaway)) return;
    this.endSocket();
  }

  /** Sends what is queued, then ends the socket; a peer that never closes its side is cut soon. */
  private endSocket(): void {
    this.closed = true;
    this.abortAll();
    this.flush();
    this.socket.end();
    setTimeout(() => this.socket.destroy(), 1000).unref();
  }

  private onSocketClose(): void {
    this.closed = true;
    this.abortAll();
  }

  /** Over a snapshot: each abort removes its stream. */
  private abortAll(): void {
    for (const stream of this.streams.list()) this.abort(stream);
  }
}
