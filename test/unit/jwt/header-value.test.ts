import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeHeaderValue,
  encodeHeaderValue,
  HeaderValueError,
} from '../../../src/jwt/header-value.js';

/** What any HTTP hop passes through unchanged: printable ASCII, no space at either end. */
const SURVIVES_HTTP = /^[\x21-\x7e]*$/;

// Strings that stress the encoding: whitespace at both ends, control characters, `%` and
// escape look-alikes, separators, and every plane of Unicode (well-formed).
const tricky = fc.oneof(
  fc.string({ unit: 'grapheme' }),
  fc.string({ unit: 'binary' }),
  fc
    .array(
      fc.constantFrom(
        ' ',
        '\t',
        '\r',
        '\n',
        '\0',
        '\x7f',
        '%',
        '%20',
        '%2',
        ',',
        ';',
        '"',
        '\\',
        'a',
        'é',
        '😀',
        '\u00a0',
        '\u2028',
        '\ufeff',
      ),
      { maxLength: 12 },
    )
    .map((a) => a.join('')),
);

describe('identity header encoding', () => {
  it.each([
    ['cloud-teleport-aleksander.rykalin', 'cloud-teleport-aleksander.rykalin'],
    ['gateway', 'gateway'],
    [
      'spiffe://cluster.local/ns/platform/sa/gateway',
      'spiffe://cluster.local/ns/platform/sa/gateway',
    ],
    ['https://token-exchange.platform.svc:8443', 'https://token-exchange.platform.svc:8443'],
    ['alice@example.com', 'alice@example.com'],
    [' admin', '%20admin'],
    ['admin ', 'admin%20'],
    ['first last', 'first%20last'],
    ['50%', '50%25'],
    ['%20', '%2520'],
    ['a,b;c', 'a%2Cb%3Bc'],
    ['line\r\nX-Evil: 1', 'line%0D%0AX-Evil:%201'],
    ['алекс', '%D0%B0%D0%BB%D0%B5%D0%BA%D1%81'],
    ['', ''],
  ])('%j → %j', (raw, encoded) => {
    expect(encodeHeaderValue(raw)).toBe(encoded);
    expect(decodeHeaderValue(encoded)).toBe(raw);
  });

  it('is reversible on generated strings: decode(encode(x)) === x, also with decodeURIComponent', () => {
    fc.assert(
      fc.property(tricky, (x) => {
        const encoded = encodeHeaderValue(x);
        expect(decodeHeaderValue(encoded)).toBe(x);
        expect(decodeURIComponent(encoded)).toBe(x);
      }),
      { numRuns: 5_000 },
    );
  });

  it('survives HTTP: printable ASCII only, nothing a parser would trim or split', () => {
    fc.assert(
      fc.property(tricky, (x) => {
        const encoded = encodeHeaderValue(x);
        expect(encoded).toMatch(SURVIVES_HTTP);
        expect(encoded).not.toMatch(/[,;"\\]/);
        expect(encoded.trim()).toBe(encoded);
      }),
      { numRuns: 5_000 },
    );
  });

  it('never gives two distinct claims the same header', () => {
    fc.assert(
      fc.property(tricky, tricky, (x, y) => {
        fc.pre(x !== y);
        expect(encodeHeaderValue(x)).not.toBe(encodeHeaderValue(y));
      }),
      { numRuns: 5_000 },
    );
    // Pairs that differ only in what HTTP would trim or fold.
    const pairs = [
      [' admin', 'admin'],
      ['admin ', 'admin'],
      ['a b', 'a  b'],
      ['a\tb', 'a b'],
    ];
    for (const [x, y] of pairs) expect(encodeHeaderValue(x!)).not.toBe(encodeHeaderValue(y!));
  });

  it('accepts only canonical encodings when decoding', () => {
    for (const bad of ['%2a', '%41', 'a b', '%', '%G0', '%C3', 'é', ',', '%2']) {
      expect(() => decodeHeaderValue(bad), bad).toThrow(HeaderValueError);
    }
    fc.assert(
      fc.property(fc.string({ unit: 'binary-ascii' }), (s) => {
        let decoded: string;
        try {
          decoded = decodeHeaderValue(s);
        } catch {
          return;
        }
        expect(encodeHeaderValue(decoded)).toBe(s);
      }),
      { numRuns: 5_000 },
    );
  });

  it('refuses strings that are not well-formed Unicode rather than making them collide', () => {
    expect(() => encodeHeaderValue('\ud800')).toThrow(HeaderValueError);
    expect(() => encodeHeaderValue('a\udfffb')).toThrow(HeaderValueError);
  });
});
