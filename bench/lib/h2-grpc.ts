import http2, { type ClientHttp2Session } from 'node:http2';
import { CHECK_METHOD_PATH } from '../../src/envoy/proto.js';

/** The request headers a gRPC client sends for a unary Check (h2c, identity encoding). */
export const CHECK_REQUEST_HEADERS = {
  ':method': 'POST',
  ':path': CHECK_METHOD_PATH,
  'content-type': 'application/grpc',
  te: 'trailers',
} as const;

export interface GrpcReply {
  /** grpc-status from trailers (or from a trailers-only response); -1 if none arrived. */
  readonly grpcStatus: number;
  /** The framed response message (empty on a trailers-only error). */
  readonly body: Buffer;
}

/** One HTTP/2 connection over cleartext (h2c), as Envoy's ext_authz gRPC client opens. */
export function connectH2c(address: string): Promise<ClientHttp2Session> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(`http://${address}`);
    session.once('connect', () => {
      session.off('error', reject);
      resolve(session);
    });
    session.once('error', reject);
  });
}

/** A unary gRPC call with a pre-framed body: no protobuf work on the client side. */
export function grpcCall(session: ClientHttp2Session, framedBody: Buffer): Promise<GrpcReply> {
  return new Promise((resolve, reject) => {
    const stream = session.request(CHECK_REQUEST_HEADERS);
    let grpcStatus = -1;
    const chunks: Buffer[] = [];
    stream.on('response', (headers) => {
      if (headers['grpc-status'] !== undefined) grpcStatus = Number(headers['grpc-status']);
    });
    stream.on('trailers', (trailers) => {
      grpcStatus = Number(trailers['grpc-status']);
    });
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('end', () =>
      resolve({
        grpcStatus,
        body: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks),
      }),
    );
    stream.on('error', reject);
    stream.end(framedBody);
  });
}
