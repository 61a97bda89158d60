import { describe, expect, it } from 'vitest';
import { EOS, HUFFMAN_CODE } from '../../../src/h2/huffman-code.js';

describe('HUFFMAN_CODE (RFC 7541 Appendix B)', () => {
  it('has a code for every octet and EOS, EOS being 30 ones', () => {
    expect(HUFFMAN_CODE).toHaveLength(257);
    expect(HUFFMAN_CODE[EOS]).toEqual([0x3fffffff, 30]);
    for (const [code, bits] of HUFFMAN_CODE) {
      expect(bits).toBeGreaterThanOrEqual(5);
      expect(bits).toBeLessThanOrEqual(30);
      expect(code).toBeLessThan(2 ** bits);
    }
  });

  it('is complete: the Kraft sum of its lengths is exactly 1 (a wrong length breaks it)', () => {
    // Scaled by 2^30, the longest length, so the sum is an exact integer.
    const sum = HUFFMAN_CODE.reduce((acc, [, bits]) => acc + 2 ** (30 - bits), 0);
    expect(sum).toBe(2 ** 30);
  });

  it('is canonical: codes count up in order of (length, symbol), as the RFC assigns them', () => {
    const order = HUFFMAN_CODE.map((_, symbol) => symbol).sort(
      (a, b) => HUFFMAN_CODE[a]![1] - HUFFMAN_CODE[b]![1] || a - b,
    );
    let code = -1;
    let length = HUFFMAN_CODE[order[0]!]![1];
    for (const symbol of order) {
      const [actual, bits] = HUFFMAN_CODE[symbol]!;
      code = (code + 1) * 2 ** (bits - length);
      length = bits;
      expect(actual, `symbol ${symbol}`).toBe(code);
    }
  });

  it.each([
    ['0', 48, 0x0, 5],
    ['a', 97, 0x3, 5],
    ['space', 32, 0x14, 6],
    [':', 58, 0x5c, 7],
    ['~', 126, 0x1ffd, 13],
    ['octet 0', 0, 0x1ff8, 13],
    ['octet 255', 255, 0x3ffffee, 26],
    ['LF', 10, 0x3ffffffc, 30],
  ])('spot check: %s', (_what, symbol, code, bits) => {
    expect(HUFFMAN_CODE[symbol]).toEqual([code, bits]);
  });
});
