import { describe, expect, it } from 'vitest';
import { encodeGrpcMessage } from '../../../src/grpc/status-message.js';

describe('encodeGrpcMessage', () => {
  it.each([
    ['printable ASCII as it is', 'method not implemented', 'method not implemented'],
    ['% itself', '100% sure', '100%25 sure'],
    ['control characters', 'a\r\nb\t', 'a%0D%0Ab%09'],
    ['UTF-8 bytes of other text', 'é→', '%C3%A9%E2%86%92'],
  ])('encodes %s', (_what, text, encoded) => {
    expect(encodeGrpcMessage(text)).toBe(encoded);
    expect(decodeURIComponent(encoded)).toBe(text);
  });
});
