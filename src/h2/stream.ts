import type { RequestHeaders } from './request-headers.js';

/** What a stream needs from its connection to send; the connection applies flow control. */
export interface StreamSink {
  sendHeaders(stream: H2Stream, block: Uint8Array, endStream: boolean): void;
  /** False when some of `data` waits for the peer's flow-control window. */
  sendData(stream: H2Stream, data: Uint8Array): boolean;
  /** Ends the stream with trailers once its queued data has gone. */
  sendTrailers(stream: H2Stream, block: Uint8Array): void;
}

/**
 * What a stream's consumer is told, as methods of one object per stream (the consumer knows its
 * stream): the gRPC layer's call is that object, so a call costs no closure per callback.
 */
export interface StreamConsumer {
  /** The body as it arrives, until the stream has been answered (later data is read and dropped). */
  onData?(chunk: Buffer): void;
  /** The peer has sent all of the body. */
  onEnd?(): void;
  /** The stream was cut before we ended it: the peer reset it, or the connection is gone. */
  onClose?(): void;
  /** Data queued by flow control has gone. */
  onDrain?(): void;
}

/** One request stream on the server side (RFC 9113 §5.1); the consumer is set when it is handed over. */
export class H2Stream {
  consumer: StreamConsumer | undefined;

  /** The peer has sent END_STREAM. */
  remoteEnded = false;
  /** We have sent (or queued) END_STREAM; nothing more may be sent. */
  localEnded = false;
  /** Gone from the connection: finished both ways, reset, or the connection closed. */
  closed = false;
  headersSent = false;

  // Flow control and body accounting, kept by the connection (so are the two windows).
  readonly queued: Uint8Array[] = [];
  queuedTrailers: Uint8Array | undefined;
  /** Body octets handed to onData and not yet released (the connection window waits for them). */
  held = 0;
  bodyBytes = 0;

  constructor(
    readonly id: number,
    readonly headers: RequestHeaders,
    private readonly sink: StreamSink,
    public sendWindow: number,
    public recvWindow: number,
    readonly contentLength: number | undefined,
  ) {}

  /** True while an answer can still start: open, nothing sent yet (END_STREAM comes after headers). */
  get answerable(): boolean {
    return !this.closed && !this.headersSent;
  }

  /** The whole answer is one header block that ends the stream (e.g. gRPC's trailers-only). */
  respondOnly(block: Uint8Array): void {
    if (!this.answerable) return;
    this.sink.sendHeaders(this, block, true);
  }

  /** Response headers, the body and the trailers, in one write when flow control allows. */
  respond(head: Uint8Array, body: Uint8Array, trailers: Uint8Array): void {
    if (!this.answerable) return;
    this.sink.sendHeaders(this, head, false);
    this.sink.sendData(this, body);
    this.sink.sendTrailers(this, trailers);
  }

  /** For streamed answers: the response headers, then write() per message, then end(). */
  sendHeaders(head: Uint8Array): void {
    if (!this.answerable) return;
    this.sink.sendHeaders(this, head, false);
  }

  /** False when the data waits for the peer's window: wait for onDrain. */
  write(data: Uint8Array): boolean {
    if (this.closed || this.localEnded || !this.headersSent) return false;
    return this.sink.sendData(this, data);
  }

  end(trailers: Uint8Array): void {
    if (this.closed || this.localEnded || !this.headersSent) return;
    this.sink.sendTrailers(this, trailers);
  }

  get writableNeedDrain(): boolean {
    return this.queued.length > 0;
  }
}
