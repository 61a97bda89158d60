import { describe, expect, it } from 'vitest';
import {
  decodeObjectId,
  encodeObjectId,
  MAX_OBJECT_ID_BYTES,
  ObjectIdError,
} from '../../../src/spicedb/object-id.js';

/** SpiceDB's object id rule (authzed/api core.proto), without the wildcard alternative. */
const SPICEDB_ID = /^[a-zA-Z0-9/_|\-=+]{1,1024}$/;

const problem = (fn: () => unknown): string | undefined => {
  try {
    fn();
  } catch (err) {
    if (err instanceof ObjectIdError) return err.problem;
    throw err;
  }
  return undefined;
};

describe('encodeObjectId: table', () => {
  it.each([
    ['cl0', 'cl0'],
    ['a/b_c|d-e+f', 'a/b_c|d-e+f'],
    ['cloud-teleport-aleksander.rykalin', 'cloud-teleport-aleksander=2Erykalin'],
    ['alice@example.com', 'alice=40example=2Ecom'],
    ['a:b', 'a=3Ab'],
    ['a b', 'a=20b'],
    ['a#b', 'a=23b'],
    ['*', '=2A'],
    ['a*', 'a=2A'],
    ['=', '=3D'],
    ['a=2Eb', 'a=3D2Eb'], // a valid id that looks encoded keeps its own, distinct encoding
    ['YWJj==', 'YWJj=3D=3D'], // base64 padding is escaped like any other `=`
    ['алекс', '=D0=B0=D0=BB=D0=B5=D0=BA=D1=81'],
    ['😀', '=F0=9F=98=80'],
    ['\uFEFFx', '=EF=BB=BFx'], // a leading BOM survives the round trip
    ['%41', '=2541'],
  ])('%j → %s', (raw, encoded) => {
    expect(encodeObjectId(raw)).toBe(encoded);
    expect(encoded).toMatch(SPICEDB_ID);
    expect(decodeObjectId(encoded)).toBe(raw);
  });

  it('refuses the empty string, lone surrogates and ids too long once encoded', () => {
    expect(problem(() => encodeObjectId(''))).toBe('empty');
    expect(problem(() => encodeObjectId('a\uD800b'))).toBe('not_unicode');
    expect(problem(() => encodeObjectId('\uDC00'))).toBe('not_unicode');
    expect(encodeObjectId('a'.repeat(MAX_OBJECT_ID_BYTES))).toHaveLength(1024);
    expect(problem(() => encodeObjectId('a'.repeat(MAX_OBJECT_ID_BYTES + 1)))).toBe('too_long');
    expect(encodeObjectId('.'.repeat(341))).toHaveLength(1023);
    expect(problem(() => encodeObjectId('.'.repeat(342)))).toBe('too_long');
  });

  it('never lets a too-long id message carry the id', () => {
    const raw = 'secret-looking-id.'.repeat(100);
    try {
      encodeObjectId(raw);
      expect.unreachable();
    } catch (err) {
      expect((err as Error).message).not.toContain('secret');
    }
  });
});

describe('decodeObjectId accepts only canonical encodings', () => {
  it.each([
    ['a=2eb', 'lower-case hex'],
    ['=41', 'an escaped kept character'],
    ['a=', 'a dangling escape'],
    ['a=2', 'a short escape'],
    ['a=ZZ', 'non-hex digits'],
    ['a.b', 'a character SpiceDB refuses'],
    ['*', 'the wildcard'],
    ['=FF', 'invalid UTF-8'],
    ['=C3', 'truncated UTF-8'],
    ['=ED=A0=80', 'an encoded surrogate'],
    ['', 'the empty string'],
  ])('%j (%s) is refused', (encoded) => {
    expect(problem(() => decodeObjectId(encoded))).toMatch(/malformed|empty/);
  });
});

/** A small deterministic PRNG (mulberry32), so a failing case can be replayed. */
function prng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Random ids biased towards the interesting parts: kept chars, `=`, hex digits, separators, non-ASCII. */
function randomId(rand: () => number): string {
  const pools = [
    'abcXYZ019/_|-+',
    '=',
    '0123456789ABCDEFabcdef',
    '.@: #*%\t\n',
    'äöüалекс漢字',
    '😀𝄞',
  ];
  const length = 1 + Math.floor(rand() * 12);
  let s = '';
  for (let i = 0; i < length; i++) {
    const pool = [...pools[Math.floor(rand() * pools.length)]!];
    s += pool[Math.floor(rand() * pool.length)];
  }
  return s;
}

describe('encodeObjectId: properties over random strings', () => {
  const rand = prng(20261124);
  const samples = Array.from({ length: 20_000 }, () => randomId(rand));

  it('always yields a valid SpiceDB id that decodes back to the input', () => {
    for (const raw of samples) {
      const encoded = encodeObjectId(raw);
      expect(encoded).toMatch(SPICEDB_ID);
      expect(decodeObjectId(encoded)).toBe(raw);
    }
  });

  it('is injective: distinct inputs never share an encoding', () => {
    const seen = new Map<string, string>();
    for (const raw of samples) {
      const encoded = encodeObjectId(raw);
      const other = seen.get(encoded);
      if (other !== undefined) expect(other).toBe(raw);
      seen.set(encoded, raw);
    }
    expect(seen.size).toBeGreaterThan(15_000);
  });

  it('leaves valid ids without `=` unchanged and never outputs `*`, `:`, `#` or `@`', () => {
    for (const raw of samples) {
      const encoded = encodeObjectId(raw);
      if (/^[a-zA-Z0-9/_|\-+]+$/.test(raw)) expect(encoded).toBe(raw);
      expect(encoded).not.toMatch(/[*:#@]/);
    }
  });

  it('decode succeeds exactly on encodings: encode(decode(x)) === x', () => {
    for (const raw of samples) {
      // Random strings over the SpiceDB alphabet: most are not canonical encodings.
      const candidate = raw.replace(/[^a-zA-Z0-9/_|\-=+]/g, '');
      if (candidate === '') continue;
      let decoded: string | undefined;
      try {
        decoded = decodeObjectId(candidate);
      } catch {
        continue;
      }
      expect(encodeObjectId(decoded)).toBe(candidate);
    }
  });
});
