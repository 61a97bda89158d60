/**
 * What grpc-js adds to a gRPC check: node:http2 alone (h2c) answering each Check as a unary gRPC
 * call, with the real server's lean codec — it decodes the CheckRequest
 * (src/envoy/check-request-decoder.ts) and answers the fixed allow of fixed-allow.ts, framed, with
 * `grpc-status: 0` in the trailers. `bare-lean` is the same work through grpc-js. A measuring
 * device, not a gRPC server: one method, no deadlines, no compression, no health service. Run as
 * a child process with an IPC channel (parent-channel.ts), listening on argv[2].
 */
import http2 from 'node:http2';
import { decodeCheckRequest } from '../../src/envoy/check-request-decoder.js';
import { encodeCheckResponse } from '../../src/envoy/check-response-encoder.js';
import { CHECK_METHOD_PATH } from '../../src/envoy/proto.js';
import { FIXED_ALLOW } from './fixed-allow.js';
import { listenForParent } from './parent-channel.js';

/** gRPC's length-prefixed message: a 0 (uncompressed) byte, the length, the message. */
function framed(message: Buffer): Buffer {
  const out = Buffer.alloc(5 + message.length);
  out.writeUInt32BE(message.length, 1);
  message.copy(out, 5);
  return out;
}

const ANSWER = framed(encodeCheckResponse(FIXED_ALLOW));
const GRPC = { ':status': 200, 'content-type': 'application/grpc' };

let calls = 0;
const server = http2.createServer();
server.on('stream', (stream, headers) => {
  stream.on('error', () => undefined);
  if (headers[':path'] !== CHECK_METHOD_PATH) {
    stream.respond({ ...GRPC, 'grpc-status': '12' }, { endStream: true });
    return;
  }
  const chunks: Buffer[] = [];
  stream.on('data', (chunk: Buffer) => chunks.push(chunk));
  stream.on('end', () => {
    // Envoy cancels a check it stopped waiting for (RST_STREAM): there is no one to answer.
    if (stream.destroyed || stream.closed) return;
    decodeCheckRequest(Buffer.concat(chunks).subarray(5));
    calls++;
    stream.respond(GRPC, { waitForTrailers: true });
    stream.once('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
    stream.end(ANSWER);
  });
});

await listenForParent(
  server,
  () => calls,
  () => process.exit(0),
);
