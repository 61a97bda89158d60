import { describe, expect, it } from 'vitest';
import { huffmanDecode } from '../../../src/h2/huffman.js';
import { huffmanEncode } from '../../helpers/huffman-encode.js';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const decode = (b: Uint8Array) => huffmanDecode(b, 0, b.length);
const ALL_OCTETS = String.fromCharCode(...Array.from({ length: 256 }, (_, i) => i));

describe('huffmanDecode / huffmanEncode (RFC 7541 §5.2, Appendix B)', () => {
  it.each([
    ['www.example.com', 'f1e3 c2e5 f23a 6ba0 ab90 f4ff'],
    ['no-cache', 'a8eb 1064 9cbf'],
    ['custom-key', '25a8 49e9 5ba9 7d7f'],
    ['custom-value', '25a8 49e9 5bb8 e8b4 bf'],
    ['302', '6402'],
    ['private', 'aec3 771a 4b'],
    ['Mon, 21 Oct 2013 20:13:21 GMT', 'd07a be94 1054 d444 a820 0595 040b 8166 e082 a62d 1bff'],
    ['https://www.example.com', '9d29 ad17 1863 c78f 0b97 c8e9 ae82 ae43 d3'],
  ])('RFC 7541 Appendix C: %s', (text, encoded) => {
    expect(decode(hex(encoded))).toBe(text);
    expect(huffmanEncode(text)).toEqual(hex(encoded));
  });

  it('round-trips every octet value, alone and all together', () => {
    for (let octet = 0; octet < 256; octet++) {
      const s = String.fromCharCode(octet);
      expect(decode(huffmanEncode(s))).toBe(s);
    }
    expect(decode(huffmanEncode(ALL_OCTETS))).toBe(ALL_OCTETS);
    const reversed = [...ALL_OCTETS].reverse().join('').repeat(3);
    expect(decode(huffmanEncode(reversed))).toBe(reversed);
  });

  it('decodes the empty string from no octets', () => {
    expect(decode(new Uint8Array(0))).toBe('');
  });

  it('decodes only src[start, end)', () => {
    const inner = huffmanEncode('no-cache');
    const src = Buffer.concat([Buffer.from([0x00, 0x00]), inner, Buffer.from([0x00])]);
    expect(huffmanDecode(src, 2, 2 + inner.length)).toBe('no-cache');
  });

  it('decodes a long string (the reused output grows)', () => {
    const long = 'abc/xyz-0123456789'.repeat(10_000);
    expect(decode(huffmanEncode(long))).toBe(long);
    expect(decode(huffmanEncode('short'))).toBe('short');
  });

  // 'a' is 00011, 'b' 100011, '0' 00000, ' ' 010100; EOS is 30 ones.
  const EOS = '1'.repeat(30);

  it.each([
    ['EOS after a symbol', '00011' + EOS + '11111'],
    ['EOS alone', EOS + '11'],
    ['EOS between symbols', '00011' + EOS + '00011'],
  ])('%s is invalid', (_what, code) => {
    expect(decode(bits(code))).toBeUndefined();
  });

  it.each([
    ['a whole octet of ones', '11111111'],
    ["'a' then 11 ones", '00011' + '1'.repeat(11)],
    ["'ab' then 13 ones", '00011 100011' + '1'.repeat(13)],
  ])('%s is invalid (padding longer than 7 bits)', (_what, code) => {
    expect(decode(bits(code))).toBeUndefined();
  });

  it.each([
    ["'a' then 110", '00011 110'],
    ["'a' then 011", '00011 011'],
    ["'0' then 000", '00000 000'],
    ["'aa' then 111110", '00011 00011 111110'],
  ])('%s is invalid (padding not the leading ones of EOS)', (_what, code) => {
    expect(decode(bits(code))).toBeUndefined();
  });

  it.each([
    ['a', '00011 111'],
    ['0a', '00000 00011 111111'],
    ['0  ', '00000 010100 010100 1111111'],
    ['0a0a', '00000 00011 00000 00011 1111'],
  ])('accepts %j with up to 7 bits of EOS as padding', (text, code) => {
    expect(decode(bits(code))).toBe(text);
  });
});

/** Octets from a string of bits (spaces ignored; a whole number of octets). */
function bits(code: string): Buffer {
  const digits = code.replace(/ /g, '');
  if (digits.length % 8 !== 0) throw new Error(`${digits.length} bits is not whole octets`);
  return Buffer.from(
    Array.from({ length: digits.length / 8 }, (_, i) =>
      parseInt(digits.slice(i * 8, i * 8 + 8), 2),
    ),
  );
}
