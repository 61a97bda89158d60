import { describe, expect, it } from 'vitest';
import { HpackDecoder } from '../../../src/h2/hpack-decoder.js';
import { encodeHeaderBlock } from '../../../src/h2/hpack-encoder.js';
import { exchangeWithNodeClient, responseFrame } from '../../helpers/raw-h2-peer.js';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const ascii = (s: string) => Buffer.from(s, 'latin1');

const RESPONSE: [string, string][] = [
  [':status', '200'],
  ['content-type', 'application/grpc'],
  ['grpc-status', '0'],
  ['grpc-message', ''],
];

describe('encodeHeaderBlock', () => {
  it.each([
    ['`:status: 200` as indexed field 8', [[':status', '200']], hex('88')],
    [
      'content-type by static name index 31 (15 + 16), value plain',
      [['content-type', 'application/grpc']],
      Buffer.concat([hex('0f 10 10'), ascii('application/grpc')]),
    ],
    // A status other than 200: the name by index 8, the value a literal.
    ['`:status: 404` as a literal with name index 8', [[':status', '404']], hex('08 03 343034')],
    [
      'a name outside the static table as a literal name',
      [['grpc-status', '0']],
      Buffer.concat([hex('00 0b'), ascii('grpc-status'), hex('01 30')]),
    ],
    ['an empty value', [['te', '']], hex('00 02 7465 00')],
    ['a name index under 15 in the first octet (:path is 4)', [[':path', '/x']], hex('04 02 2f78')],
    [
      'a name index from 15 on in a second octet (age is 21: 15 + 6)',
      [['age', '1']],
      hex('0f 06 01 31'),
    ],
  ] as [string, [string, string][], Buffer][])('encodes %s', (_what, fields, bytes) => {
    expect(encodeHeaderBlock(fields)).toEqual(bytes);
  });

  it('writes multi-octet integers for a long value (127 + 173 = 0x7f 0xad 0x01 for 300)', () => {
    const block = encodeHeaderBlock([['x', 'v'.repeat(300)]]);
    expect(block.subarray(0, 6)).toEqual(hex('00 01 78 7f ad 01'));
    expect(block).toHaveLength(6 + 300);
  });

  it('an empty list is an empty block', () => {
    expect(encodeHeaderBlock([])).toEqual(Buffer.alloc(0));
  });

  it('decodes back with our decoder, and leaves its dynamic table empty', () => {
    const fields: [string, string][] = [
      ...RESPONSE,
      ['x-jwtexchange-explain', 'a'.repeat(5000)],
      ['date', 'Mon, 21 Oct 2013 20:13:21 GMT'],
      ['latin1', '\xe9\xff\t'],
    ];
    const decoder = new HpackDecoder({ maxTableSize: 4096, maxHeaderListSize: 1 << 20 });
    const result = decoder.decode(encodeHeaderBlock(fields));
    expect(result).toEqual({ ok: true, fields: fields.flat(), oversize: false });
    expect(decoder.dynamicTable.length).toBe(0);
  });

  it.each([
    ['a char above 0xff in a value', 'x', 'caf\u20ac'],
    ['CR in a value', 'x', 'a\rb'],
    ['LF in a value', 'x', 'a\nb'],
    ['NUL in a value', 'x', 'a\0b'],
    ['LF in a name', 'x\n', 'v'],
    ['LF in a value of a static name', 'content-type', 'a\nb'],
  ])('throws on %s', (_what, name, value) => {
    expect(() => encodeHeaderBlock([[name, value]])).toThrow(/cannot carry/);
  });

  it('is read by nghttp2 (node:http2 client) as the headers we sent, on stream after stream', async () => {
    const blocks = [
      encodeHeaderBlock(RESPONSE),
      encodeHeaderBlock([
        [':status', '404'],
        ['content-type', 'text/plain'],
        ['x-long', 'v'.repeat(300)],
      ]),
    ];
    let next = 0;
    const { responses } = await exchangeWithNodeClient([{ ':path': '/a' }, { ':path': '/b' }], {
      answer: (stream) => responseFrame(stream, blocks[next++]!),
    });
    expect(responses[0]).toMatchObject({
      ':status': 200,
      'content-type': 'application/grpc',
      'grpc-status': '0',
      'grpc-message': '',
    });
    expect(responses[1]).toMatchObject({
      ':status': 404,
      'content-type': 'text/plain',
      'x-long': 'v'.repeat(300),
    });
  });
});
