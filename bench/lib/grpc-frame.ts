import type { MethodDefinition } from '@grpc/grpc-js';
import { authorizationService } from '../../src/envoy/proto.js';
import type { CheckRequest, CheckResponse } from '../../src/envoy/types.js';

/**
 * gRPC over HTTP/2 by hand: a message is a 5-byte prefix (1 byte "compressed" flag, 4 bytes
 * big-endian length) followed by the protobuf bytes. The protobuf codec is the one grpc-js uses
 * for the server (proto-loader over the same protos as src/envoy/proto.ts), so the bytes the load
 * generators send are exactly what the server decodes.
 */

export const GRPC_HEADER_BYTES = 5;

function checkMethod(): MethodDefinition<CheckRequest, CheckResponse> {
  return authorizationService().Check as MethodDefinition<CheckRequest, CheckResponse>;
}

/** Prefixes one serialized message with the uncompressed gRPC frame header. */
export function frame(message: Buffer): Buffer {
  const out = Buffer.allocUnsafe(GRPC_HEADER_BYTES + message.length);
  out.writeUInt8(0, 0);
  out.writeUInt32BE(message.length, 1);
  message.copy(out, GRPC_HEADER_BYTES);
  return out;
}

/** A CheckRequest ready to send as an HTTP/2 request body. */
export function framedCheckRequest(request: CheckRequest): Buffer {
  return frame(checkMethod().requestSerialize(request));
}

/** Splits concatenated gRPC frames (as written to a bodies file) back into single frames. */
export function splitFrames(data: Buffer): Buffer[] {
  const frames: Buffer[] = [];
  let at = 0;
  while (at < data.length) {
    if (at + GRPC_HEADER_BYTES > data.length) throw new Error(`truncated gRPC frame at ${at}`);
    const end = at + GRPC_HEADER_BYTES + data.readUInt32BE(at + 1);
    if (end > data.length) throw new Error(`truncated gRPC frame at ${at}`);
    frames.push(data.subarray(at, end));
    at = end;
  }
  return frames;
}

/** Decodes one framed CheckResponse (full decode: for samples, not for every response). */
export function decodeCheckResponse(framed: Buffer): CheckResponse {
  if (framed.length < GRPC_HEADER_BYTES) throw new Error('response shorter than a gRPC frame');
  if (framed.readUInt8(0) !== 0) throw new Error('compressed responses are not expected');
  const length = framed.readUInt32BE(1);
  const body = framed.subarray(GRPC_HEADER_BYTES, GRPC_HEADER_BYTES + length);
  return checkMethod().responseDeserialize(body);
}
