import { STATIC_TABLE } from './hpack-static-table.js';

/** The first static index of each name (RFC 7541 Appendix A). */
const STATIC_NAME_INDEX = new Map<string, number>();
STATIC_TABLE.forEach(([name], i) => {
  if (!STATIC_NAME_INDEX.has(name)) STATIC_NAME_INDEX.set(name, i + 1);
});

/** `:status: 200`, static index 8, as an indexed field (§6.1). */
const STATUS_200 = 0x88;

/**
 * Encodes our response headers and trailers as one HPACK block. `:status: 200` is indexed; every
 * other field is a literal without indexing (§6.2.2), its name by static index when the static
 * table has it, strings plain (no Huffman). No field ever enters a dynamic table, so the peer's
 * decoder state never depends on what we sent.
 */
export function encodeHeaderBlock(fields: readonly (readonly [string, string])[]): Buffer {
  let size = 0;
  for (const [name, value] of fields) size += fieldSize(name, value);
  const out = Buffer.allocUnsafe(size);
  let pos = 0;
  for (const [name, value] of fields) {
    if (name === ':status' && value === '200') {
      out[pos++] = STATUS_200;
      continue;
    }
    const index = STATIC_NAME_INDEX.get(name);
    if (index === undefined) {
      out[pos++] = 0;
      pos = writeString(out, pos, name);
    } else {
      pos = writeInteger(out, pos, 0x00, 4, index);
    }
    pos = writeString(out, pos, value);
  }
  return out;
}

/** The encoded size of one field; throws on what HPACK or HTTP cannot carry. */
function fieldSize(name: string, value: string): number {
  if (name === ':status' && value === '200') return 1;
  checkOctets(name);
  checkOctets(value);
  const index = STATIC_NAME_INDEX.get(name);
  const nameSize = index === undefined ? 1 + stringSize(name) : integerSize(4, index);
  return nameSize + stringSize(value);
}

/** Our own names and values are latin1 without CR, LF or NUL: anything else is our bug. */
function checkOctets(s: string): void {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 0xff || c === 0x0d || c === 0x0a || c === 0x00) {
      throw new Error('HPACK encoder: a header field holds a character it cannot carry');
    }
  }
}

function stringSize(s: string): number {
  return integerSize(7, s.length) + s.length;
}

function integerSize(prefixBits: number, value: number): number {
  const max = (1 << prefixBits) - 1;
  if (value < max) return 1;
  let size = 2;
  for (let rest = value - max; rest >= 128; rest = Math.floor(rest / 128)) size++;
  return size;
}

/** An integer with an N-bit prefix (§5.1); `high` holds the first octet's other bits. */
function writeInteger(
  out: Buffer,
  at: number,
  high: number,
  prefixBits: number,
  value: number,
): number {
  let pos = at;
  const max = (1 << prefixBits) - 1;
  if (value < max) {
    out[pos++] = high | value;
    return pos;
  }
  out[pos++] = high | max;
  let rest = value - max;
  while (rest >= 128) {
    out[pos++] = (rest % 128) | 0x80;
    rest = Math.floor(rest / 128);
  }
  out[pos++] = rest;
  return pos;
}

/** A plain string literal (H = 0). */
function writeString(out: Buffer, at: number, s: string): number {
  const pos = writeInteger(out, at, 0x00, 7, s.length);
  return pos + out.write(s, pos, 'latin1');
}
