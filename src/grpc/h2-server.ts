import { EventEmitter } from 'node:events';
import { status } from '@grpc/grpc-js';
import { timerAt } from '../clock.js';
import { encodeHeaderBlock } from '../h2/hpack-encoder.js';
import type { ProtocolErrorListener } from '../h2/connection.js';
import { H2Server } from '../h2/server.js';
import type { H2Stream, StreamConsumer } from '../h2/stream.js';
import { listenOn } from '../net/address.js';
import {
  grpcError,
  type Call,
  type GrpcError,
  type MethodDefinition,
  type ServerStreamCall,
  type ServerStreamHandler,
  type ServiceMethods,
  type Trailers,
  type UnaryHandler,
} from './calls.js';
import { FRAME_HEADER_BYTES, frameMessage, singleMessage, type FramingProblem } from './framing.js';
import { encodeGrpcMessage } from './status-message.js';
import { parseGrpcTimeout } from './timeout.js';

export interface H2GrpcServerOptions {
  /** Largest request message accepted; a larger one is RESOURCE_EXHAUSTED. */
  readonly maxMessageBytes: number;
  /** Open calls per connection (SETTINGS_MAX_CONCURRENT_STREAMS); more are refused. */
  readonly maxConcurrentCalls: number;
  /** Request bytes a connection may hold for calls not yet complete (its receive window). */
  readonly connectionWindowBytes: number;
  /** Told of each HTTP/2 error the listener sends (a GOAWAY or RST_STREAM), by scope and name. */
  readonly onProtocolError?: ProtocolErrorListener;
}

interface Route {
  readonly method: MethodDefinition<unknown, never>;
  readonly unary?: UnaryHandler<unknown, unknown>;
  readonly stream?: ServerStreamHandler<unknown, unknown>;
}

const GRPC_CONTENT_TYPE = /^application\/grpc(?:[+;]|$)/;
const CONTENT_TYPE: readonly [string, string] = ['content-type', 'application/grpc+proto'];
const RESPONSE_HEADERS = encodeHeaderBlock([[':status', '200'], CONTENT_TYPE]);
const OK = ['grpc-status', '0'] as const;
const OK_TRAILERS = encodeHeaderBlock([OK]);
/** OK with no message, trailers-only: HPACK blocks without indexing simply concatenate. */
const OK_ONLY = Buffer.concat([RESPONSE_HEADERS, OK_TRAILERS]);
const UNSUPPORTED_MEDIA_TYPE = encodeHeaderBlock([
  [':status', '415'],
  ['content-type', 'text/plain'],
]);
const UNSUPPORTED_MEDIA_TYPE_BODY = Buffer.from('gRPC only: application/grpc\n');
const NO_TRAILERS = new Uint8Array(0);
/** Request headers larger than this are answered 431 by the HTTP/2 layer. */
const MAX_HEADER_LIST_BYTES = 16 * 1024;

/**
 * gRPC on our HTTP/2 server (src/h2/), for the unary and server-streaming methods the sidecar
 * serves (ext_authz Check, grpc.health.v1). It does what a gRPC server must and no more, because
 * the per-call work of a general gRPC framework, then node:http2's second write per answer, were
 * most of a check's cost (bench/README.md, ninth and tenth sessions):
 * - a request that is not `application/grpc` is HTTP 415; an unknown method is UNIMPLEMENTED;
 * - the body must be exactly one uncompressed message of at most maxMessageBytes (larger:
 *   RESOURCE_EXHAUSTED; compressed: UNIMPLEMENTED, we accept no encoding; else INTERNAL);
 * - `grpc-timeout` sets the call's deadline; a call not answered by then ends DEADLINE_EXCEEDED;
 * - a unary answer (headers, message, trailers) leaves in one write; errors go back
 *   trailers-only, with a percent-encoded `grpc-message`.
 * tryShutdown sends GOAWAY and lets open calls finish; forceShutdown cuts them.
 */
export class H2GrpcServer {
  private readonly routes = new Map<string, Route>();
  private readonly server: H2Server;
  /** A request body's largest size: one message of maxMessageBytes with its gRPC frame header. */
  private readonly bodyLimit: number;

  constructor(options: H2GrpcServerOptions) {
    this.bodyLimit = options.maxMessageBytes + FRAME_HEADER_BYTES;
    this.server = new H2Server(
      {
        maxConcurrentStreams: options.maxConcurrentCalls,
        // A whole message fits a stream's window: a check needs no WINDOW_UPDATE round trip.
        streamWindowBytes: this.bodyLimit,
        connectionWindowBytes: options.connectionWindowBytes,
        maxHeaderListBytes: MAX_HEADER_LIST_BYTES,
        onProtocolError: options.onProtocolError,
      },
      (stream) => this.onStream(stream),
    );
  }

  /**
   * Serves a service's methods with the handlers of the same names (a method without one is
   * UNIMPLEMENTED). Takes grpc-js service definitions as they are.
   */
  addService(methods: ServiceMethods, handlers: Readonly<Record<string, unknown>>): void {
    for (const [name, method] of Object.entries(methods)) {
      if (method.requestStream) throw new Error(`${method.path}: client streaming is not served`);
      const handler = handlers[name];
      if (typeof handler !== 'function') continue;
      this.routes.set(
        method.path,
        method.responseStream
          ? { method, stream: handler as ServerStreamHandler<unknown, unknown> }
          : { method, unary: handler as UnaryHandler<unknown, unknown> },
      );
    }
  }

  /**
   * Listens on a config address (host:port, [v6]:port, unix:/path); resolves with the port. A
   * failed bind rejects with a ListenError naming `setting`.
   */
  listen(address: string, setting: string): Promise<number> {
    return listenOn(this.server.net, address, setting);
  }

  /** Stops accepting; GOAWAY on every connection; `done` once the open calls have finished. */
  tryShutdown(done: () => void): void {
    this.server.close(done);
  }

  /** Cuts every connection now. */
  forceShutdown(): void {
    this.server.destroy();
  }

  private onStream(stream: H2Stream): void {
    const headers = stream.headers;
    const contentType = headers['content-type'];
    if (contentType === undefined || !GRPC_CONTENT_TYPE.test(contentType)) {
      // Whatever the request's body, it is dropped.
      return stream.respond(UNSUPPORTED_MEDIA_TYPE, UNSUPPORTED_MEDIA_TYPE_BODY, NO_TRAILERS);
    }
    const route = this.routes.get(headers[':path']!);
    if (!route) return endCall(stream, grpcError(status.UNIMPLEMENTED, 'method not implemented'));
    const timeout = parseGrpcTimeout(headers['grpc-timeout']);
    if (timeout === 'invalid') {
      return endCall(stream, grpcError(status.INTERNAL, 'malformed grpc-timeout'));
    }
    const deadline = timeout === undefined ? Infinity : Date.now() + timeout;
    stream.consumer = new IncomingCall(stream, route, this.bodyLimit, deadline);
  }
}

/**
 * A call from its headers to its handler, as its stream's consumer: collects the request body up
 * to `limit` bytes (past it the call ends RESOURCE_EXHAUSTED), decodes it and runs the method.
 */
class IncomingCall implements StreamConsumer, Call<unknown> {
  request: unknown;
  private readonly chunks: Buffer[] = [];
  private size = 0;

  constructor(
    private readonly stream: H2Stream,
    private readonly route: Route,
    private readonly limit: number,
    readonly deadline: number,
  ) {}

  header(name: string): string | undefined {
    return this.stream.headers[name];
  }

  onData(chunk: Buffer): void {
    this.size += chunk.length;
    if (this.size > this.limit) {
      // Answered now; the HTTP/2 layer reads and drops the rest of the body, so memory stays
      // bounded. (A RST_STREAM right after the answer can reach a client before its status.)
      this.chunks.length = 0;
      endCall(this.stream, grpcError(status.RESOURCE_EXHAUSTED, 'request message too large'));
      return;
    }
    this.chunks.push(chunk);
  }

  onEnd(): void {
    if (this.size > this.limit) return;
    const { stream, route, chunks } = this;
    const message = singleMessage(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks));
    chunks.length = 0;
    if (typeof message === 'string') return endCall(stream, framingError(message));
    try {
      this.request = route.method.requestDeserialize(message);
    } catch {
      return endCall(stream, grpcError(status.INTERNAL, 'malformed request message'));
    }
    try {
      if (route.unary) unaryCall(stream, route, this);
      else route.stream!(new StreamCall(stream, route.method, this));
    } catch {
      // Handlers are written not to throw; one that does fails its call, never the process.
      endCall(stream, grpcError(status.INTERNAL, 'internal error'));
    }
  }
}

function framingError(problem: FramingProblem): GrpcError {
  if (problem === 'compressed') {
    return grpcError(status.UNIMPLEMENTED, 'compressed messages are not accepted');
  }
  if (problem === 'truncated') return grpcError(status.INTERNAL, 'truncated request message');
  return grpcError(status.INTERNAL, 'expected exactly one request message');
}

/** The trailers of an OK answer: grpc-status 0 after any extra trailers. */
function okTrailers(extra?: Trailers): Uint8Array {
  return extra ? encodeHeaderBlock([...Object.entries(extra), OK]) : OK_TRAILERS;
}

/** The trailers of an error: its code and percent-encoded message. */
function errorTrailers(err: GrpcError): Uint8Array {
  return encodeHeaderBlock([
    ['grpc-status', String(err.code)],
    ['grpc-message', encodeGrpcMessage(err.details)],
  ]);
}

/** Ends a call that has sent nothing yet: trailers-only. */
function endCall(stream: H2Stream, err: GrpcError): void {
  if (!stream.answerable) return;
  stream.respondOnly(Buffer.concat([RESPONSE_HEADERS, errorTrailers(err)]));
}

function unaryCall(stream: H2Stream, route: Route, call: Call<unknown>): void {
  let answered = false;
  const done = (err: GrpcError | null, value?: unknown, trailers?: Trailers) => {
    if (answered) return;
    answered = true;
    clearTimeout(timer);
    if (err) return endCall(stream, err);
    let payload: Buffer;
    let trailerBlock: Uint8Array;
    try {
      payload = route.method.responseSerialize(value as never);
      // Extra trailers are encoded here too: one that cannot be (a CR, say) fails the call only.
      trailerBlock = okTrailers(trailers);
    } catch {
      return endCall(stream, grpcError(status.INTERNAL, 'the response could not be encoded'));
    }
    if (!stream.answerable) return;
    stream.respond(RESPONSE_HEADERS, frameMessage(payload), trailerBlock);
  };
  const timer = timerAt(call.deadline, () =>
    done(grpcError(status.DEADLINE_EXCEEDED, 'deadline exceeded')),
  );
  route.unary!(call, done);
}

class StreamCall
  extends EventEmitter
  implements ServerStreamCall<unknown, unknown>, StreamConsumer
{
  readonly request: unknown;
  readonly deadline: number;
  private started = false;
  private ended = false;

  constructor(
    private readonly stream: H2Stream,
    private readonly method: MethodDefinition<unknown, never>,
    call: Call<unknown>,
  ) {
    super();
    this.request = call.request;
    this.deadline = call.deadline;
    stream.consumer = this;
  }

  header(name: string): string | undefined {
    return this.stream.headers[name];
  }

  onDrain(): void {
    this.emit('drain');
  }

  onClose(): void {
    if (this.ended) return;
    this.ended = true;
    this.emit('cancelled');
  }

  get writableNeedDrain(): boolean {
    return this.stream.writableNeedDrain;
  }

  write(message: unknown): boolean {
    if (this.ended || this.stream.closed) return false;
    if (!this.started) {
      this.started = true;
      this.stream.sendHeaders(RESPONSE_HEADERS);
    }
    return this.stream.write(frameMessage(this.method.responseSerialize(message as never)));
  }

  end(error?: GrpcError): void {
    if (this.ended) return;
    this.ended = true;
    if (!this.started) {
      if (error) endCall(this.stream, error);
      else this.stream.respondOnly(OK_ONLY);
      return;
    }
    this.stream.end(error ? errorTrailers(error) : OK_TRAILERS);
  }
}
