import { HUFFMAN_CODE } from '../../src/h2/huffman-code.js';

/**
 * Huffman-encodes a latin1 string, padded with the leading ones of EOS. The server never sends
 * Huffman (its encoder writes plain strings): this builds the tests' vectors.
 */
export function huffmanEncode(s: string): Buffer {
  const bytes: number[] = [];
  let acc = 0;
  let pending = 0;
  for (let i = 0; i < s.length; i++) {
    const [code, bits] = HUFFMAN_CODE[s.charCodeAt(i) & 0xff]!;
    // Feed the code one bit at a time: codes are up to 30 bits, past what `acc` can shift.
    for (let b = bits - 1; b >= 0; b--) {
      acc = (acc << 1) | ((code >>> b) & 1);
      if (++pending === 8) {
        bytes.push(acc);
        acc = 0;
        pending = 0;
      }
    }
  }
  if (pending > 0) bytes.push((acc << (8 - pending)) | (0xff >>> pending));
  return Buffer.from(bytes);
}
