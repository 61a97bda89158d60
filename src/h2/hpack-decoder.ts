import { DynamicTable, ENTRY_OVERHEAD } from './hpack-dynamic-table.js';
import type { DynamicTableView } from './hpack-dynamic-table.js';
import { STATIC_TABLE } from './hpack-static-table.js';
import { huffmanDecode } from './huffman.js';

export interface HpackDecoderLimits {
  /** Our SETTINGS_HEADER_TABLE_SIZE: the largest dynamic table size the peer may set (4096). */
  readonly maxTableSize: number;
  /** Our SETTINGS_MAX_HEADER_LIST_SIZE: sum over fields of name + value octets + 32 (RFC 9113 §6.5.2). */
  readonly maxHeaderListSize: number;
}

export type HpackResult =
  | { readonly ok: true; readonly fields: string[]; readonly oversize: boolean }
  | { readonly ok: false; readonly reason: string };

/** Integers are capped well below what a block could need, so no arithmetic ever loses bits. */
const MAX_INTEGER = 0x7fffffff;
/** 2^31 - 1 takes 5 continuation octets; one more allows a little zero padding, and no more. */
const MAX_CONTINUATION_OCTETS = 6;
/** A size update to the minimum and one to the final size is all an encoder ever needs (§4.2). */
const MAX_SIZE_UPDATES = 2;
const EMPTY = Buffer.alloc(0);

/**
 * Decodes HPACK header blocks (RFC 7541) from one peer's encoder: one decoder per connection, as
 * the dynamic table is the connection's. Every octet is hostile: work is linear in the block,
 * integers are bounded, and any malformation is a COMPRESSION_ERROR whose reason is a fixed
 * phrase, never header bytes.
 */
export class HpackDecoder {
  private readonly table: DynamicTable;
  private readonly limits: HpackDecoderLimits;
  /** The block being decoded, and where in it; cleared after each block. */
  private src: Buffer = EMPTY;
  private pos = 0;
  /** The field just read by readField. */
  private name = '';
  private value = '';
  private reason = '';

  constructor(limits: HpackDecoderLimits) {
    this.limits = limits;
    this.table = new DynamicTable(limits.maxTableSize);
  }

  /** The dynamic table, read-only (tests check it evolves as the peer's encoder expects). */
  get dynamicTable(): DynamicTableView {
    return this.table;
  }

  /** Decodes one complete header block (after CONTINUATIONs are joined). */
  decode(block: Uint8Array): HpackResult {
    this.src =
      block instanceof Buffer ? block : Buffer.from(block.buffer, block.byteOffset, block.length);
    this.pos = 0;
    try {
      return this.decodeBlock();
    } finally {
      this.src = EMPTY;
      this.name = '';
      this.value = '';
    }
  }

  private decodeBlock(): HpackResult {
    const src = this.src;
    const fields: string[] = [];
    let listSize = 0;
    let oversize = false;
    let updates = 0;
    let fieldsSeen = false;
    while (this.pos < src.length) {
      if ((src[this.pos]! & 0xe0) === 0x20) {
        // Size updates only open a block (§4.2).
        if (fieldsSeen) return failed('table size update after a field');
        if (++updates > MAX_SIZE_UPDATES) return failed('too many table size updates');
        if (!this.readSizeUpdate()) return failed(this.reason);
        continue;
      }
      fieldsSeen = true;
      if (!this.readField()) return failed(this.reason);
      if (oversize) continue;
      // Past the limit, decoding goes on (the table must follow the peer's) but collects nothing.
      listSize += this.name.length + this.value.length + ENTRY_OVERHEAD;
      if (listSize > this.limits.maxHeaderListSize) {
        oversize = true;
        fields.length = 0;
      } else {
        fields.push(this.name, this.value);
      }
    }
    return { ok: true, fields, oversize };
  }

  private readSizeUpdate(): boolean {
    const size = this.readInteger(5);
    if (size < 0) return false;
    if (size > this.limits.maxTableSize)
      return this.fail('table size update over the limit', false);
    this.table.resize(size);
    return true;
  }

  /** Reads one field representation (§6.1, §6.2) into this.name and this.value. */
  private readField(): boolean {
    const first = this.src[this.pos]!;
    if (first & 0x80) {
      const index = this.readInteger(7);
      return index >= 0 && this.lookup(index, true);
    }
    // 01xxxxxx: with incremental indexing; 0000xxxx and 0001xxxx: without, and never indexed.
    const indexing = (first & 0x40) !== 0;
    const index = this.readInteger(indexing ? 6 : 4);
    if (index < 0) return false;
    if (index === 0) {
      const name = this.readString();
      if (name === undefined) return false;
      this.name = name;
    } else if (!this.lookup(index, false)) {
      return false;
    }
    const value = this.readString();
    if (value === undefined) return false;
    this.value = value;
    if (indexing) this.table.add(this.name, value);
    return true;
  }

  /** Sets this.name (and this.value, when withValue) from the static or the dynamic table. */
  private lookup(index: number, withValue: boolean): boolean {
    if (index === 0) return this.fail('index 0', false);
    if (index <= STATIC_TABLE.length) {
      const entry = STATIC_TABLE[index - 1]!;
      this.name = entry[0];
      if (withValue) this.value = entry[1];
      return true;
    }
    const dynamic = index - STATIC_TABLE.length;
    if (dynamic > this.table.length) return this.fail('index past the tables', false);
    this.name = this.table.name(dynamic);
    if (withValue) this.value = this.table.value(dynamic);
    return true;
  }

  /** An integer with an N-bit prefix (§5.1), or -1 (this.reason says why). */
  private readInteger(prefixBits: number): number {
    const src = this.src;
    const mask = (1 << prefixBits) - 1;
    let pos = this.pos;
    let value = src[pos++]! & mask;
    if (value === mask) {
      for (let octets = 0, scale = 1; ; octets++, scale *= 128) {
        if (octets === MAX_CONTINUATION_OCTETS) return this.fail('integer too long', -1);
        if (pos >= src.length) return this.fail('block ends inside a field', -1);
        const octet = src[pos++]!;
        value += (octet & 0x7f) * scale;
        if (value > MAX_INTEGER) return this.fail('integer overflow', -1);
        if ((octet & 0x80) === 0) break;
      }
    }
    this.pos = pos;
    return value;
  }

  /** A string literal (§5.2), or undefined (this.reason says why). */
  private readString(): string | undefined {
    const src = this.src;
    if (this.pos >= src.length) return this.fail('block ends inside a field', undefined);
    const huffman = (src[this.pos]! & 0x80) !== 0;
    const length = this.readInteger(7);
    if (length < 0) return undefined;
    const start = this.pos;
    if (length > src.length - start)
      return this.fail('string past the end of the block', undefined);
    this.pos = start + length;
    if (!huffman) return src.toString('latin1', start, this.pos);
    const decoded = huffmanDecode(src, start, this.pos);
    return decoded ?? this.fail('invalid huffman string', undefined);
  }

  /** Notes why decoding failed; returns `result`, what the caller returns on failure. */
  private fail<T>(reason: string, result: T): T {
    this.reason = reason;
    return result;
  }
}

function failed(reason: string): HpackResult {
  return { ok: false, reason };
}
