/**
 * `grpc-message` is percent-encoded (gRPC over HTTP/2): every byte of the UTF-8 text outside
 * printable ASCII, and `%` itself, as %XX.
 */
export function encodeGrpcMessage(text: string): string {
  let out = '';
  for (const byte of Buffer.from(text, 'utf8')) {
    out +=
      byte >= 0x20 && byte <= 0x7e && byte !== 0x25
        ? String.fromCharCode(byte)
        : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}
