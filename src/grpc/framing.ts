/**
 * gRPC's Length-Prefixed-Message: a compressed flag byte, a 4-byte big-endian length, the message.
 */
export const FRAME_HEADER_BYTES = 5;

/** One uncompressed message as it goes on the wire. */
export function frameMessage(message: Buffer): Buffer {
  const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + message.length);
  frame[0] = 0;
  frame.writeUInt32BE(message.length, 1);
  message.copy(frame, FRAME_HEADER_BYTES);
  return frame;
}

/** Why a request body is not exactly one uncompressed message. */
export type FramingProblem = 'truncated' | 'not-one-message' | 'compressed';

/**
 * The single message of a unary or server-streaming request body; the body is already bounded in
 * size by the caller. A compressed message is a problem of its own: the server accepts none.
 */
export function singleMessage(body: Buffer): Buffer | FramingProblem {
  if (body.length < FRAME_HEADER_BYTES) return body.length === 0 ? 'not-one-message' : 'truncated';
  const length = body.readUInt32BE(1);
  const end = FRAME_HEADER_BYTES + length;
  if (end > body.length) return 'truncated';
  if (end < body.length) return 'not-one-message';
  if (body[0] !== 0) return 'compressed';
  return body.subarray(FRAME_HEADER_BYTES, end);
}
