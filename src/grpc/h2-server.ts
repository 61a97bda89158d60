import { EventEmitter } from 'node:events';
import {
  createServer,
  type Http2Server,
  type Http2Session,
  type IncomingHttpHeaders,
  type ServerHttp2Stream,
} from 'node:http2';
import { status } from '@grpc/grpc-js';
import { timerAt } from '../clock.js';
import { listenOn } from '../net/address.js';
import type {
  Call,
  GrpcError,
  MethodDefinition,
  ServerStreamCall,
  ServerStreamHandler,
  ServiceMethods,
  Trailers,
  UnaryHandler,
} from './calls.js';
import { FRAME_HEADER_BYTES, frameMessage, singleMessage, type FramingProblem } from './framing.js';
import { encodeGrpcMessage } from './status-message.js';
import { parseGrpcTimeout } from './timeout.js';

export interface H2GrpcServerOptions {
  /** Largest request message accepted; a larger one is RESOURCE_EXHAUSTED. */
  readonly maxMessageBytes: number;
  /** Per-connection HTTP/2 memory (MB) before new streams are refused (node:http2). */
  readonly maxSessionMemoryMb: number;
}

interface Route {
  readonly method: MethodDefinition<unknown, never>;
  readonly unary?: UnaryHandler<unknown, unknown>;
  readonly stream?: ServerStreamHandler<unknown, unknown>;
}

const GRPC_CONTENT_TYPE = /^application\/grpc(?:[+;]|$)/;
const RESPONSE_HEADERS = { ':status': 200, 'content-type': 'application/grpc+proto' };
const ignore = () => undefined;

/**
 * gRPC on node:http2, for the unary and server-streaming methods the sidecar serves (ext_authz
 * Check, grpc.health.v1). It does what a gRPC server must and no more, because the per-call work
 * of a general gRPC framework was most of a check's cost (bench/README.md, ninth session):
 * - a request that is not `application/grpc` is HTTP 415; an unknown method is UNIMPLEMENTED;
 * - the body must be exactly one uncompressed message of at most maxMessageBytes (larger:
 *   RESOURCE_EXHAUSTED; compressed: UNIMPLEMENTED, we accept no encoding; else INTERNAL);
 * - `grpc-timeout` sets the call's deadline; a call not answered by then ends DEADLINE_EXCEEDED;
 * - errors go back trailers-only, with a percent-encoded `grpc-message`.
 * tryShutdown sends GOAWAY and lets open calls finish; forceShutdown cuts them.
 */
export class H2GrpcServer {
  private readonly routes = new Map<string, Route>();
  private readonly sessions = new Set<Http2Session>();
  private readonly server: Http2Server;

  constructor(private readonly options: H2GrpcServerOptions) {
    this.server = createServer({ maxSessionMemory: options.maxSessionMemoryMb });
    this.server.on('session', (session) => {
      this.sessions.add(session);
      session.once('close', () => this.sessions.delete(session));
      // A broken connection ends its calls ('close' on each stream); nothing to report.
      session.on('error', ignore);
    });
    this.server.on('stream', (stream, headers) => this.onStream(stream, headers));
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
    return listenOn(this.server, address, setting);
  }

  /** Stops accepting; GOAWAY on every connection; `done` once the open calls have finished. */
  tryShutdown(done: () => void): void {
    this.server.close(() => done());
    for (const session of this.sessions) session.close();
  }

  /** Cuts every connection now. */
  forceShutdown(): void {
    this.server.close();
    for (const session of this.sessions) session.destroy();
  }

  private onStream(stream: ServerHttp2Stream, headers: IncomingHttpHeaders): void {
    // A reset or a broken connection is an 'error' here; the call is then simply over.
    stream.on('error', ignore);
    const contentType = headers['content-type'];
    if (typeof contentType !== 'string' || !GRPC_CONTENT_TYPE.test(contentType)) {
      stream.resume(); // whatever the body, it is dropped
      if (!stream.headersSent) stream.respond({ ':status': 415 }, { endStream: true });
      return;
    }
    const route = this.routes.get(headers[':path'] ?? '');
    if (!route) return refuse(stream, fail(status.UNIMPLEMENTED, 'method not implemented'));
    const timeout = parseGrpcTimeout(headers['grpc-timeout']);
    if (timeout === 'invalid')
      return refuse(stream, fail(status.INTERNAL, 'malformed grpc-timeout'));
    const deadline = timeout === undefined ? Infinity : Date.now() + timeout;
    readBody(stream, this.options.maxMessageBytes + FRAME_HEADER_BYTES, (body) => {
      const message = singleMessage(body);
      if (typeof message === 'string') return endCall(stream, framingError(message));
      let request: unknown;
      try {
        request = route.method.requestDeserialize(message);
      } catch {
        return endCall(stream, fail(status.INTERNAL, 'malformed request message'));
      }
      const header = (name: string) => {
        const v = headers[name];
        return typeof v === 'string' ? v : undefined;
      };
      const call = { request, header, deadline };
      try {
        if (route.unary) unaryCall(stream, route, call);
        else route.stream!(new StreamCall(stream, route.method, call));
      } catch {
        // Handlers are written not to throw; one that does fails its call, never the process.
        endCall(stream, fail(status.INTERNAL, 'internal error'));
      }
    });
  }
}

function fail(code: status, details: string): GrpcError {
  return { code, details };
}

function framingError(problem: FramingProblem): GrpcError {
  if (problem === 'compressed') {
    return fail(status.UNIMPLEMENTED, 'compressed messages are not accepted');
  }
  if (problem === 'truncated') return fail(status.INTERNAL, 'truncated request message');
  return fail(status.INTERNAL, 'expected exactly one request message');
}

/** Collects the request body up to `limit` bytes; past it the call ends RESOURCE_EXHAUSTED. */
function readBody(stream: ServerHttp2Stream, limit: number, onBody: (body: Buffer) => void): void {
  const chunks: Buffer[] = [];
  let size = 0;
  const onData = (chunk: Buffer) => {
    size += chunk.length;
    if (size > limit) {
      // Answered now; the rest of the body is read and dropped, so memory stays bounded. (A
      // RST_STREAM right after the answer can reach a client before it has read the status.)
      stream.off('data', onData);
      stream.on('data', ignore);
      endCall(stream, fail(status.RESOURCE_EXHAUSTED, 'request message too large'));
      return;
    }
    chunks.push(chunk);
  };
  stream.on('data', onData);
  stream.once('end', () => {
    if (size <= limit) onBody(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks));
  });
}

function answerable(stream: ServerHttp2Stream): boolean {
  return !stream.destroyed && !stream.closed && !stream.headersSent;
}

/** Ends a call before reading its body, which is dropped. */
function refuse(stream: ServerHttp2Stream, err: GrpcError): void {
  stream.resume();
  endCall(stream, err);
}

// Frozen: shared by every OK answer (node:http2 copies what it sends).
const OK_TRAILERS: Trailers = Object.freeze({ 'grpc-status': '0' });

/** A call's status as trailers: OK, or an error's code and percent-encoded message. */
function statusTrailers(err?: GrpcError): Trailers {
  return err
    ? { 'grpc-status': String(err.code), 'grpc-message': encodeGrpcMessage(err.details) }
    : OK_TRAILERS;
}

/** Ends a call that has sent nothing yet: trailers-only. */
function endCall(stream: ServerHttp2Stream, err?: GrpcError): void {
  if (!answerable(stream)) return;
  stream.respond({ ...RESPONSE_HEADERS, ...statusTrailers(err) }, { endStream: true });
}

/** Sends the trailers once node:http2 asks for them (after the last DATA frame). */
function trailersWhenWanted(stream: ServerHttp2Stream, trailers: Trailers): void {
  stream.once('wantTrailers', () => {
    try {
      stream.sendTrailers(trailers);
    } catch {
      // The stream closed in between: the caller is gone.
    }
  });
}

function unaryCall(stream: ServerHttp2Stream, route: Route, call: Call<unknown>): void {
  let answered = false;
  const done = (err: GrpcError | null, value?: unknown, trailers?: Trailers) => {
    if (answered) return;
    answered = true;
    clearTimeout(timer);
    if (err) return endCall(stream, err);
    let payload: Buffer;
    try {
      payload = route.method.responseSerialize(value as never);
    } catch {
      return endCall(stream, fail(status.INTERNAL, 'the response could not be encoded'));
    }
    if (!answerable(stream)) return;
    stream.respond(RESPONSE_HEADERS, { waitForTrailers: true });
    trailersWhenWanted(stream, trailers ? { ...trailers, ...OK_TRAILERS } : OK_TRAILERS);
    stream.end(frameMessage(payload));
  };
  const timer = timerAt(call.deadline, () =>
    done(fail(status.DEADLINE_EXCEEDED, 'deadline exceeded')),
  );
  route.unary!(call, done);
}

class StreamCall extends EventEmitter implements ServerStreamCall<unknown, unknown> {
  readonly request: unknown;
  readonly deadline: number;
  readonly header: Call<unknown>['header'];
  private started = false;
  private ended = false;

  constructor(
    private readonly stream: ServerHttp2Stream,
    private readonly method: MethodDefinition<unknown, never>,
    call: Call<unknown>,
  ) {
    super();
    this.request = call.request;
    this.deadline = call.deadline;
    this.header = call.header;
    stream.on('drain', () => this.emit('drain'));
    stream.once('close', () => {
      if (this.ended) return;
      this.ended = true;
      this.emit('cancelled');
    });
  }

  get writableNeedDrain(): boolean {
    return this.stream.writableNeedDrain;
  }

  write(message: unknown): boolean {
    if (this.ended || this.stream.destroyed) return false;
    if (!this.started) {
      this.started = true;
      this.stream.respond(RESPONSE_HEADERS, { waitForTrailers: true });
    }
    return this.stream.write(frameMessage(this.method.responseSerialize(message as never)));
  }

  end(error?: GrpcError): void {
    if (this.ended) return;
    this.ended = true;
    if (!this.started) return endCall(this.stream, error);
    trailersWhenWanted(this.stream, statusTrailers(error));
    this.stream.end();
  }
}
