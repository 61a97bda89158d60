import type { status } from '@grpc/grpc-js';

/** A call's end other than OK: its gRPC status code and a message for the caller. */
export interface GrpcError {
  readonly code: status;
  readonly details: string;
}

export function grpcError(code: status, details: string): GrpcError {
  return { code, details };
}

/** Extra response trailers (printable ASCII values). */
export type Trailers = Readonly<Record<string, string>>;

/** What every call offers its handler: the decoded request, its headers, its deadline. */
export interface Call<Req> {
  readonly request: Req;
  /** A request header (gRPC call metadata) by its lower-case name; undefined when absent. */
  header(name: string): string | undefined;
  /** Epoch milliseconds by which the caller wants the answer (its grpc-timeout), or Infinity. */
  readonly deadline: number;
}

/** Answers a unary call once: a response (with extra trailers), or an error. Later calls do nothing. */
export type UnaryCallback<Res> = (err: GrpcError | null, value?: Res, trailers?: Trailers) => void;

export type UnaryHandler<Req, Res> = (call: Call<Req>, done: UnaryCallback<Res>) => void;

/** A server-streaming call: responses as they come, then one end. */
export interface ServerStreamCall<Req, Res> extends Call<Req> {
  /** False once the stream's buffer is full: wait for 'drain'. Ignored after the end. */
  write(message: Res): boolean;
  readonly writableNeedDrain: boolean;
  /** Ends the call, OK without an error. */
  end(error?: GrpcError): void;
  /** 'cancelled': the caller went away before the end; 'drain': writable again. */
  on(event: 'cancelled' | 'drain', listener: () => void): this;
}

export type ServerStreamHandler<Req, Res> = (call: ServerStreamCall<Req, Res>) => void;

/**
 * One method as the server needs it (grpc-js's MethodDefinition fits): where it is served, whether
 * it streams responses, and its codec. Client-streaming methods are not served.
 */
export interface MethodDefinition<Req, Res> {
  readonly path: string;
  readonly requestStream: boolean;
  readonly responseStream: boolean;
  readonly requestDeserialize: (bytes: Buffer) => Req;
  readonly responseSerialize: (value: Res) => Buffer;
}

/**
 * A service's methods by name (a grpc-js ServiceDefinition fits); `never`: any response type, as
 * only the method's own handler hands it values.
 */
export type ServiceMethods = Readonly<Record<string, MethodDefinition<unknown, never>>>;
