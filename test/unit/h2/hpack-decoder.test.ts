import { sensitiveHeaders } from 'node:http2';
import { describe, expect, it } from 'vitest';
import { HpackDecoder } from '../../../src/h2/hpack-decoder.js';
import type { HpackResult } from '../../../src/h2/hpack-decoder.js';
import { huffmanEncode } from '../../helpers/huffman-encode.js';
import { exchangeWithNodeClient } from '../../helpers/raw-h2-peer.js';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const LIMITS = { maxTableSize: 4096, maxHeaderListSize: 16_384 };

/** The fields of a successful decode, as [name, value] pairs. */
function pairs(result: HpackResult): [string, string][] {
  if (!result.ok) throw new Error(`decode failed: ${result.reason}`);
  const out: [string, string][] = [];
  for (let i = 0; i < result.fields.length; i += 2) {
    out.push([result.fields[i]!, result.fields[i + 1]!]);
  }
  return out;
}

/** The dynamic table, newest entry first. */
function tableOf(decoder: HpackDecoder): (readonly [string, string])[] {
  const view = decoder.dynamicTable;
  return Array.from({ length: view.length }, (_, i) => view.entry(i + 1)!);
}

/** An HPACK string literal without Huffman. */
const plain = (s: string) => Buffer.concat([Buffer.from([s.length]), Buffer.from(s, 'latin1')]);

describe('HpackDecoder: RFC 7541 Appendix C.2 (one representation each)', () => {
  it('C.2.1 a literal with indexing adds to the dynamic table', () => {
    const decoder = new HpackDecoder(LIMITS);
    const block = hex('400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572');
    expect(pairs(decoder.decode(block))).toEqual([['custom-key', 'custom-header']]);
    expect(tableOf(decoder)).toEqual([['custom-key', 'custom-header']]);
    expect(decoder.dynamicTable.size).toBe(55);
  });

  it.each([
    ['C.2.2 without indexing', '040c 2f73 616d 706c 652f 7061 7468', [':path', '/sample/path']],
    ['C.2.3 never indexed', '1008 7061 7373 776f 7264 0673 6563 7265 74', ['password', 'secret']],
    ['C.2.4 an indexed field', '82', [':method', 'GET']],
  ])('%s leaves the table empty', (_what, block, field) => {
    const decoder = new HpackDecoder(LIMITS);
    expect(pairs(decoder.decode(hex(block)))).toEqual([field]);
    expect(decoder.dynamicTable.length).toBe(0);
    expect(decoder.dynamicTable.size).toBe(0);
  });
});

const REQUEST_1 = [
  [':method', 'GET'],
  [':scheme', 'http'],
  [':path', '/'],
  [':authority', 'www.example.com'],
];
const REQUEST_2 = [...REQUEST_1, ['cache-control', 'no-cache']];
const REQUEST_3 = [
  [':method', 'GET'],
  [':scheme', 'https'],
  [':path', '/index.html'],
  [':authority', 'www.example.com'],
  ['custom-key', 'custom-value'],
];
const REQUEST_TABLES = [
  { entries: [[':authority', 'www.example.com']], size: 57 },
  {
    entries: [
      ['cache-control', 'no-cache'],
      [':authority', 'www.example.com'],
    ],
    size: 110,
  },
  {
    entries: [
      ['custom-key', 'custom-value'],
      ['cache-control', 'no-cache'],
      [':authority', 'www.example.com'],
    ],
    size: 164,
  },
];

describe.each([
  [
    'C.3 requests without Huffman',
    [
      '8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d',
      '8286 84be 5808 6e6f 2d63 6163 6865',
      '8287 85bf 400a 6375 7374 6f6d 2d6b 6579 0c63 7573 746f 6d2d 7661 6c75 65',
    ],
  ],
  [
    'C.4 requests with Huffman',
    [
      '8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff',
      '8286 84be 5886 a8eb 1064 9cbf',
      '8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf',
    ],
  ],
])('HpackDecoder: RFC 7541 Appendix %s', (_what, blocks) => {
  it('decodes three requests in sequence with one decoder, the table as the RFC shows', () => {
    const decoder = new HpackDecoder(LIMITS);
    [REQUEST_1, REQUEST_2, REQUEST_3].forEach((fields, i) => {
      expect(pairs(decoder.decode(hex(blocks[i]!)))).toEqual(fields);
      expect(tableOf(decoder)).toEqual(REQUEST_TABLES[i]!.entries);
      expect(decoder.dynamicTable.size).toBe(REQUEST_TABLES[i]!.size);
    });
  });
});

const DATE_1 = 'Mon, 21 Oct 2013 20:13:21 GMT';
const DATE_2 = 'Mon, 21 Oct 2013 20:13:22 GMT';
const LOCATION = 'https://www.example.com';
const COOKIE = 'foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1';
const RESPONSES = [
  [
    [':status', '302'],
    ['cache-control', 'private'],
    ['date', DATE_1],
    ['location', LOCATION],
  ],
  [
    [':status', '307'],
    ['cache-control', 'private'],
    ['date', DATE_1],
    ['location', LOCATION],
  ],
  [
    [':status', '200'],
    ['cache-control', 'private'],
    ['date', DATE_2],
    ['location', LOCATION],
    ['content-encoding', 'gzip'],
    ['set-cookie', COOKIE],
  ],
];
const RESPONSE_TABLES = [
  {
    entries: [
      ['location', LOCATION],
      ['date', DATE_1],
      ['cache-control', 'private'],
      [':status', '302'],
    ],
    size: 222,
  },
  {
    entries: [
      [':status', '307'],
      ['location', LOCATION],
      ['date', DATE_1],
      ['cache-control', 'private'],
    ],
    size: 222,
  },
  {
    entries: [
      ['set-cookie', COOKIE],
      ['content-encoding', 'gzip'],
      ['date', DATE_2],
    ],
    size: 215,
  },
];
const C5 = [
  '4803 3330 3258 0770 7269 7661 7465 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a' +
    '3133 3a32 3120 474d 546e 1768 7474 7073 3a2f 2f77 7777 2e65 7861 6d70 6c65 2e63 6f6d',
  '4803 3330 37c1 c0bf',
  '88c1 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3220 474d 54c0 5a04' +
    '677a 6970 7738 666f 6f3d 4153 444a 4b48 514b 425a 584f 5157 454f 5049 5541 5851 5745 4f49' +
    '553b 206d 6178 2d61 6765 3d33 3630 303b 2076 6572 7369 6f6e 3d31',
];
const C6 = [
  '4882 6402 5885 aec3 771a 4b61 96d0 7abe 9410 54d4 44a8 2005 9504 0b81 66e0 82a6 2d1b ff6e' +
    '919d 29ad 1718 63c7 8f0b 97c8 e9ae 82ae 43d3',
  '4883 640e ffc1 c0bf',
  '88c1 6196 d07a be94 1054 d444 a820 0595 040b 8166 e084 a62d 1bff c05a 839b d9ab 77ad 94e7' +
    '821d d7f2 e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f 9587 3160 65c0 03ed' +
    '4ee5 b106 3d50 07',
];

/** Decodes the three responses in sequence, checking fields and table after each. */
function decodeResponses(decoder: HpackDecoder, blocks: Buffer[]): void {
  blocks.forEach((block, i) => {
    expect(pairs(decoder.decode(block))).toEqual(RESPONSES[i]);
    expect(tableOf(decoder)).toEqual(RESPONSE_TABLES[i]!.entries);
    expect(decoder.dynamicTable.size).toBe(RESPONSE_TABLES[i]!.size);
  });
}

describe.each([
  ['C.5 responses without Huffman', C5],
  ['C.6 responses with Huffman', C6],
])('HpackDecoder: RFC 7541 Appendix %s (a 256-octet table)', (_what, blocks) => {
  it('evicts as the RFC shows when the table is 256 octets from the start', () => {
    decodeResponses(new HpackDecoder({ maxTableSize: 256, maxHeaderListSize: 16_384 }), [
      ...blocks.map(hex),
    ]);
  });

  it('evicts the same after the peer shrinks a 4096-octet table to 256 with a size update', () => {
    const decoder = new HpackDecoder(LIMITS);
    expect(decoder.dynamicTable.maxSize).toBe(4096);
    // 001 11111 + 225: a size update to 256 at the start of the first block.
    const first = Buffer.concat([hex('3fe101'), hex(blocks[0]!)]);
    decodeResponses(decoder, [first, ...blocks.slice(1).map(hex)]);
    expect(decoder.dynamicTable.maxSize).toBe(256);
  });
});

describe('HpackDecoder: dynamic table size updates', () => {
  it('a size update evicts what no longer fits, and two in a row are accepted', () => {
    const decoder = new HpackDecoder(LIMITS);
    decoder.decode(hex(C5[0]!));
    expect(decoder.dynamicTable.length).toBe(4);
    // To 0 (empties the table), then to 100; then an indexed field.
    expect(pairs(decoder.decode(hex('20 3f45 82')))).toEqual([[':method', 'GET']]);
    expect(decoder.dynamicTable.length).toBe(0);
    expect(decoder.dynamicTable.maxSize).toBe(100);
    // An entry larger than the table empties it and is not added (§4.4).
    const big = Buffer.concat([hex('40'), plain('n'), plain('v'.repeat(80))]);
    expect(pairs(decoder.decode(big))).toEqual([['n', 'v'.repeat(80)]]);
    expect(decoder.dynamicTable.length).toBe(0);
  });

  it('a size update up to the limit itself is accepted', () => {
    const decoder = new HpackDecoder(LIMITS);
    // 4096 = 31 + 4065 = 31 + 0x61 + 0x1f * 128.
    expect(decoder.decode(hex('3fe11f')).ok).toBe(true);
    expect(decoder.dynamicTable.maxSize).toBe(4096);
  });
});

describe('HpackDecoder: representations', () => {
  it('literals without indexing and never indexed do not touch the table, by name index too', () => {
    const decoder = new HpackDecoder(LIMITS);
    decoder.decode(hex('400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572'));
    // Without indexing, name 15 + 47 = 62 (the dynamic entry); never indexed, name 15 + 14 = 29
    // (content-location, static) with a Huffman value.
    const block = Buffer.concat([
      hex('0f2f'),
      plain('x'),
      hex('1f0e'),
      Buffer.from([0x80 | huffmanEncode('/a/b').length]),
      huffmanEncode('/a/b'),
    ]);
    expect(pairs(decoder.decode(block))).toEqual([
      ['custom-key', 'x'],
      ['content-location', '/a/b'],
    ]);
    expect(tableOf(decoder)).toEqual([['custom-key', 'custom-header']]);
  });

  it('names and values come out as sent: uppercase, empty and octets above 0x7f', () => {
    const decoder = new HpackDecoder(LIMITS);
    const block = Buffer.concat([hex('00'), plain('X-Up'), plain(''), hex('00'), plain('k')]);
    const high = Buffer.concat([block, plain('\xe9\xff')]);
    expect(pairs(decoder.decode(high))).toEqual([
      ['X-Up', ''],
      ['k', '\xe9\xff'],
    ]);
  });

  it('an empty block is an empty header list', () => {
    expect(new HpackDecoder(LIMITS).decode(Buffer.alloc(0))).toEqual({
      ok: true,
      fields: [],
      oversize: false,
    });
  });

  it('decodes a Uint8Array view into a larger buffer, reading only the view', () => {
    const backing = new Uint8Array([0x83, 0x82, 0x84, 0x83]);
    const view = new Uint8Array(backing.buffer, 1, 2);
    expect(pairs(new HpackDecoder(LIMITS).decode(view))).toEqual([
      [':method', 'GET'],
      [':path', '/'],
    ]);
  });

  it('the last static index (61) and the first dynamic index (62) are distinct', () => {
    const decoder = new HpackDecoder(LIMITS);
    decoder.decode(Buffer.concat([hex('40'), plain('a'), plain('b')]));
    expect(pairs(decoder.decode(hex('bd be')))).toEqual([
      ['www-authenticate', ''],
      ['a', 'b'],
    ]);
  });
});

describe('HpackDecoder: the header list size limit', () => {
  const limits = { maxTableSize: 4096, maxHeaderListSize: 100 };

  it('counts name + value + 32 per field: exactly at the limit is not oversize', () => {
    // 32 + 1 + 34 = 67, then 32 + 1 + 0 = 33: 100 in all.
    const block = Buffer.concat([hex('00'), plain('a'), plain('v'.repeat(34))]);
    const exact = Buffer.concat([block, hex('00'), plain('b'), plain('')]);
    const result = new HpackDecoder(limits).decode(exact);
    expect(result).toMatchObject({ ok: true, oversize: false });
    expect(pairs(result)).toHaveLength(2);
    const over = Buffer.concat([block, hex('00'), plain('bb'), plain('')]);
    expect(new HpackDecoder(limits).decode(over)).toEqual({ ok: true, fields: [], oversize: true });
  });

  it('past the limit, decoding goes on so the table follows the peer for the next block', () => {
    const decoder = new HpackDecoder(limits);
    // Three indexed fields, then two literals with indexing past the limit.
    const block = Buffer.concat([
      hex('82 86 84'),
      hex('40'),
      plain('first'),
      plain('x'.repeat(60)),
      hex('40'),
      plain('second'),
      plain('y'),
    ]);
    expect(decoder.decode(block)).toEqual({ ok: true, fields: [], oversize: true });
    expect(tableOf(decoder)).toEqual([
      ['second', 'y'],
      ['first', 'x'.repeat(60)],
    ]);
    // The next block refers to both entries by index, and fits.
    expect(pairs(decoder.decode(hex('be')))).toEqual([['second', 'y']]);
    expect(decoder.decode(hex('bf'))).toMatchObject({ ok: true, oversize: false });
  });

  it('a malformed block past the limit is still a compression error', () => {
    const block = Buffer.concat([hex('00'), plain('a'), plain('v'.repeat(90)), hex('80')]);
    expect(new HpackDecoder(limits).decode(block)).toEqual({ ok: false, reason: 'index 0' });
  });
});

const huffmanEos = () => {
  // 'a' (00011), then EOS (30 ones), then padding: 5 + 30 = 35 bits, 5 octets.
  return hex('1f ff ff ff ff');
};

describe('HpackDecoder: compression errors', () => {
  it.each([
    ['index 0', '80', 'index 0'],
    [
      'an indexed field past the static table with an empty dynamic table',
      'be',
      'index past the tables',
    ],
    ['an indexed field far past the tables', 'ff 80 01', 'index past the tables'],
    ['a literal name index past the tables', '7f 00 01 61', 'index past the tables'],
    ['a never-indexed name index past the tables', '1f 30 01 61', 'index past the tables'],
    ['an integer over 2^31 - 1', 'ff ff ff ff ff 07', 'integer overflow'],
    ['an integer with too many continuation octets', 'ff 80 80 80 80 80 80 00', 'integer too long'],
    ['an integer cut by the end of the block', 'ff 80', 'block ends inside a field'],
    ['a string length past the block', '00 05 61 62', 'string past the end of the block'],
    ['a string one octet past the block', '00 03 61 62', 'string past the end of the block'],
    ['a huge string length', '00 7f ff ff ff 07', 'string past the end of the block'],
    ['a value string length past the block', '00 01 61 03 61', 'string past the end of the block'],
    ['a literal without its name', '00', 'block ends inside a field'],
    ['a literal without its value', '40 01 61', 'block ends inside a field'],
    ['a literal by name index without its value', '0f 10', 'block ends inside a field'],
    ['a size update over the limit', '3f e2 1f', 'table size update over the limit'],
    ['a size update after a field', '82 20', 'table size update after a field'],
    ['a size update at the end of a block', '82 86 3f e1 01', 'table size update after a field'],
    ['three size updates in a row', '20 20 20', 'too many table size updates'],
    ['a size update cut by the end of the block', '3f', 'block ends inside a field'],
  ])('%s', (_what, block, reason) => {
    expect(new HpackDecoder(LIMITS).decode(hex(block))).toEqual({ ok: false, reason });
  });

  it.each([
    ['EOS inside the string', huffmanEos()],
    ['padding of 8 bits', Buffer.concat([huffmanEncode('ab'), hex('ff')])],
    ['padding with a zero bit', hex('1e')], // 'a' (00011) then padding 110
  ])('a Huffman name with %s', (_what, encoded) => {
    const block = Buffer.concat([hex('00'), Buffer.from([0x80 | encoded.length]), encoded]);
    const result = new HpackDecoder(LIMITS).decode(Buffer.concat([block, plain('v')]));
    expect(result).toEqual({ ok: false, reason: 'invalid huffman string' });
  });

  it('a Huffman value that is invalid', () => {
    const block = Buffer.concat([hex('00'), plain('n'), hex('81 1e')]);
    expect(new HpackDecoder(LIMITS).decode(block)).toEqual({
      ok: false,
      reason: 'invalid huffman string',
    });
  });

  it('an index just past a non-empty dynamic table', () => {
    const decoder = new HpackDecoder(LIMITS);
    decoder.decode(Buffer.concat([hex('40'), plain('a'), plain('b')]));
    expect(decoder.decode(hex('bf'))).toEqual({ ok: false, reason: 'index past the tables' });
  });

  it('reasons never hold header bytes', () => {
    const secret = 'Bearer eyJhbGciOi';
    const block = Buffer.concat([hex('00'), plain(secret), hex('05'), Buffer.from('abc')]);
    const result = new HpackDecoder(LIMITS).decode(block);
    expect(result.ok).toBe(false);
    expect(JSON.stringify(result)).not.toContain('Bearer');
  });
});

describe('HpackDecoder: against nghttp2 (node:http2 client) as the encoder', () => {
  // Every octet a header value may hold (tab, 0x20-0x7e, 0x80-0xff), each after a run of 'e':
  // short enough in Huffman that nghttp2 chooses it.
  const octets = [0x09, ...range(0x20, 0x7e), ...range(0x80, 0xff)];
  const custom: [string, string][] = octets.map((o) => [
    `x-o-${o.toString(16)}`,
    'e'.repeat(30) + String.fromCharCode(o),
  ]);

  it('decodes what it encodes, across requests sharing its dynamic table', async () => {
    const path = '/envoy.service.auth.v3.Authorization/Check';
    // Over 16 KiB even in Huffman: the block comes in a HEADERS frame and CONTINUATIONs.
    const long = 'e'.repeat(30_000);
    const big = { ':path': path, ...Object.fromEntries(custom), 'x-long': long };
    const small = { ':path': path, ...Object.fromEntries(custom.slice(0, 10)) };
    const { blocks } = await exchangeWithNodeClient([big, small, small]);
    expect(blocks).toHaveLength(3);
    expect(blocks[0]!.length).toBeGreaterThan(16_384);
    const decoder = new HpackDecoder({ maxTableSize: 4096, maxHeaderListSize: 1 << 20 });
    const [first, second, third] = blocks.map((block) => pairs(decoder.decode(block)));
    expect(first!.filter(([name]) => !name.startsWith(':'))).toEqual([...custom, ['x-long', long]]);
    for (const fields of [first!, second!, third!]) expect(fields).toContainEqual([':path', path]);
    expect(second!.filter(([name]) => !name.startsWith(':'))).toEqual(custom.slice(0, 10));
    expect(third).toEqual(second);
    // The third block named the second's fields by dynamic index: nghttp2 and we agree on it.
    expect(blocks[2]!.length).toBeLessThan(blocks[1]!.length / 4);
  });

  it('follows its size update after we announce a 256-octet table, and never-indexed fields', async () => {
    const headers = {
      ':path': '/a',
      authorization: 'Bearer not-a-real-token',
      'x-request-id': 'r1',
      [sensitiveHeaders]: ['authorization'],
    };
    const { blocks } = await exchangeWithNodeClient(
      [headers, { ...headers, 'x-request-id': 'r2' }],
      {
        headerTableSize: 256,
      },
    );
    const decoder = new HpackDecoder({ maxTableSize: 256, maxHeaderListSize: 16_384 });
    for (const [i, block] of blocks.entries()) {
      const fields = pairs(decoder.decode(block));
      expect(fields).toContainEqual(['authorization', 'Bearer not-a-real-token']);
      expect(fields).toContainEqual(['x-request-id', `r${i + 1}`]);
      expect(decoder.dynamicTable.size).toBeLessThanOrEqual(256);
    }
    expect(decoder.dynamicTable.maxSize).toBeLessThanOrEqual(256);
    expect(tableOf(decoder).map(([name]) => name)).not.toContain('authorization');
  });
});

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}
