import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalPath } from '../../../../src/check/inbound/canonical-path.js';
import { compileGrpcMatch, compileHttpMatch } from '../../../../src/config/route-match.js';
import { compileRule, findRule } from '../../../../src/config/rules.js';

describe('canonicalPath', () => {
  it.each([
    ['/v2/namespaces/cl0', ['v2', 'namespaces', 'cl0']],
    ['//v2//namespaces///cl0/', ['v2', 'namespaces', 'cl0']],
    ['/v2/%6Eamespaces/%63l0', ['v2', 'namespaces', 'cl0']],
    ['/v2/namespaces/eu.west%201', ['v2', 'namespaces', 'eu.west 1']],
    ['/v2/namespaces/%C3%A9t%c3%a9', ['v2', 'namespaces', 'été']],
    [
      '/gateway.v2.NamespaceService/CreateNamespace',
      ['gateway.v2.NamespaceService', 'CreateNamespace'],
    ],
    ['/', []],
    ['', []],
  ])('%s → %j', (path, segments) => {
    expect(canonicalPath(path)).toEqual({ segments });
  });

  // Finding 2: each of these was allowed unchecked under `default: allow` while
  // /v2/namespaces/cl0 was checked; the rest are the same class.
  it.each([
    ['/v2%2Fnamespaces%2Fcl0', 'encoded_slash'],
    ['/v2/namespaces%2Fcl0', 'encoded_slash'],
    ['/v2/namespaces%2fcl0', 'encoded_slash'],
    ['/v2%5Cnamespaces%5Ccl0', 'encoded_slash'],
    ['/v2/namespaces%5ccl0', 'encoded_slash'],
    ['/v2\\namespaces\\cl0', 'backslash'],
    ['/v2/namespaces;x=1/cl0', 'parameter'],
    ['/v2;/namespaces/cl0', 'parameter'],
    ['/v2/namespaces/cl0%3Bx', 'parameter'],
    ['/v2/../namespaces/cl0', 'dot_segment'],
    ['/v2/./namespaces/cl0', 'dot_segment'],
    ['/v2/%2e%2E/namespaces/cl0', 'dot_segment'],
    ['/v2/namespaces/cl%', 'bad_encoding'],
    ['/v2/namespaces/cl%0', 'bad_encoding'],
    ['/v2/namespaces/cl%zz', 'bad_encoding'],
    ['/v2/namespaces/%FF', 'bad_encoding'],
    ['/v2/namespaces/%C3', 'bad_encoding'],
    ['/v2/namespaces/cl0%00', 'control_character'],
    ['/v2/namespaces/cl0%0A', 'control_character'],
    ['/v2/namespaces/cl0%7F', 'control_character'],
    ['/v2/namespaces%252Fcl0', 'double_encoding'],
    ['/v2/namespaces/a%2541', 'double_encoding'],
  ])('refuses %s (%s)', (path, problem) => {
    expect(canonicalPath(path)).toEqual({ problem });
  });
});

// ---------------------------------------------------------------------------------------------
// Property: any spelling of a path either matches the same rule as its canonical form, or is
// refused. Spellings are generated from canonical paths: benign ones (percent-encoding in either
// case, repeated and trailing slashes) must never be refused; hostile ones (encoded separators,
// parameters, dot segments, broken or double encodings, control characters) may only be refused.

const RULES = [
  'POST /v2/namespaces/{cluster}',
  'GET /v2/namespaces/{cluster}/vms/{vm}',
  '* /v2/admin',
  'GET /v2/a.b/{x}',
].map((http, i) =>
  compileRule({
    name: `r${i}`,
    match: { http, matcher: compileHttpMatch(http) },
    resource: { type: 'cloud', id: { value: 'x' } },
    permission: 'view',
    dryRun: false,
  }),
);
const GRPC = 'gateway.v2.NamespaceService/CreateNamespace';
const GRPC_RULE = compileRule({
  name: 'grpc',
  match: { grpc: GRPC, matcher: compileGrpcMatch(GRPC) },
  resource: { type: 'cloud', id: { value: 'x' } },
  permission: 'view',
  dryRun: false,
});
const ALL = [...RULES, GRPC_RULE];

// Characters a canonical segment may hold: anything but separators, `;`, `%`, controls.
const segmentChar = fc.oneof(
  fc.constantFrom(..."abcxyzAZ09-._~!$&'()*+,=:@".split('')),
  fc.constantFrom('é', 'ж', '€', '😀', ' ', '"', '<', '{', '|', '?', '#'),
);
const segment = fc
  .array(segmentChar, { minLength: 1, maxLength: 6 })
  .map((cs) => cs.join(''))
  .filter((s) => s !== '.' && s !== '..');
const known = fc
  .constantFrom(
    ['v2', 'namespaces', 'cl0'],
    ['v2', 'namespaces', 'cl0', 'vms', 'vm-1'],
    ['v2', 'admin'],
    ['v2', 'a.b', 'x'],
    ['gateway.v2.NamespaceService', 'CreateNamespace'],
  )
  .map((k): string[] => [...k]);
const canonical = fc.oneof(
  known,
  fc.array(segment, { minLength: 0, maxLength: 5 }),
  known.chain((k) =>
    fc.tuple(fc.nat(k.length - 1), segment).map(([i, s]) => k.map((x, j) => (j === i ? s : x))),
  ),
);

const pct = (byte: number, lower: boolean) => {
  const h = byte.toString(16).padStart(2, '0');
  return `%${lower ? h : h.toUpperCase()}`;
};

/** Percent-encodes each UTF-8 byte of the characters `pick` chooses; `?` and `#` always. */
function encode(s: string, pick: (i: number) => number): string {
  let out = '';
  let i = 0;
  for (const ch of s) {
    const choice = pick(i++);
    if (choice === 0 && ch !== '?' && ch !== '#') out += ch;
    else for (const b of Buffer.from(ch, 'utf8')) out += pct(b, choice === 2);
  }
  return out;
}

const benign = (segments: string[]) =>
  fc
    .record({
      picks: fc.array(fc.integer({ min: 0, max: 2 }), { minLength: 64, maxLength: 64 }),
      slashes: fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 8, maxLength: 8 }),
      trailing: fc.boolean(),
    })
    .map(({ picks, slashes, trailing }) => {
      let n = 0;
      const parts = segments.map(
        (s, i) => '/'.repeat(slashes[i % 8]!) + encode(s, () => picks[n++ % 64]!),
      );
      return (parts.join('') || '/') + (trailing && segments.length > 0 ? '/' : '');
    });

/** The first character (or escape) of a spelled segment, encoded once more: `%41` → `%2541`. */
function encodeTwice(part: string): string {
  if (part.startsWith('%')) return `%25${part.slice(1)}`;
  const first = String.fromCodePoint(part.codePointAt(0)!);
  const escaped = [...Buffer.from(first, 'utf8')].map((b) => `%25${pct(b, false).slice(1)}`);
  return escaped.join('') + part.slice(first.length);
}

/**
 * Spellings some router reads as the canonical path but that are not its canonical spelling: a
 * separator written `%2F`/`%5C`/`\`, a `;parameter` a router strips, a dot segment it resolves,
 * a character encoded twice for a router that decodes twice.
 */
const disguised = (segments: string[]) =>
  fc
    .record({
      kind: fc.constantFrom('separator', 'parameter', 'dot', 'double'),
      at: fc.nat(16),
      sep: fc.constantFrom('%2F', '%2f', '%5C', '%5c', '\\'),
      param: fc.constantFrom(';', ';x=1', ';jsessionid=abc', '%3B', '%3bv=2'),
      dot: fc.constantFrom('/.', '/zz/..', '/%2e', '/zz/%2E%2e', '/./zz/..'),
      encoded: benign(segments),
    })
    .filter(({ kind }) => kind !== 'separator' || segments.length > 1)
    .map(({ kind, at, sep, param, dot, encoded }) => {
      const parts = encoded.split('/');
      const filled = parts.map((p, i) => ({ p, i })).filter(({ p }) => p !== '');
      if (filled.length === 0) return `${dot}/`;
      const { i } = filled[at % filled.length]!;
      if (kind === 'parameter') parts[i] += param;
      else if (kind === 'dot') parts[i] = `${parts[i]}${dot}`;
      else if (kind === 'double') parts[i] = encodeTwice(parts[i]!);
      else {
        const j = filled[(at % (filled.length - 1)) + 1]!.i;
        return parts.slice(0, j).join('/') + sep + parts.slice(j).join('/');
      }
      return parts.join('/');
    });

const ruleFor = (method: string, segments: readonly string[]) =>
  findRule(ALL, method, segments)?.rule.name;

describe('a path either matches the same rule as its canonical form or is refused', () => {
  it('benign spellings are never refused and match like the canonical path', () => {
    fc.assert(
      fc.property(
        canonical.chain((segs) => fc.tuple(fc.constant(segs), benign(segs))),
        fc.constantFrom('GET', 'POST'),
        ([segs, spelling], method) => {
          const c = canonicalPath(spelling);
          expect(c.segments, spelling).toEqual(segs);
          expect(ruleFor(method, c.segments!)).toBe(ruleFor(method, segs));
        },
      ),
      { numRuns: 2_000 },
    );
  });

  it('disguised spellings (%2F, \\, ;params, dot segments, double encoding) are refused', () => {
    fc.assert(
      fc.property(
        canonical.chain((segs) => fc.tuple(fc.constant(segs), disguised(segs))),
        fc.constantFrom('GET', 'POST'),
        ([segs, spelling], method) => {
          const c = canonicalPath(spelling);
          // Accepted only if it is the canonical path after all (then it matches the same rule).
          if (c.segments) {
            expect(c.segments, spelling).toEqual(segs);
            expect(ruleFor(method, c.segments)).toBe(ruleFor(method, segs));
          }
        },
      ),
      { numRuns: 2_000 },
    );
  });

  it('broken encodings and control characters anywhere are refused', () => {
    const broken = fc.constantFrom('%', '%G1', '%4G', '%E9', '%C3%28', '%00', '%0a', '%1F', '%7F');
    fc.assert(
      fc.property(
        canonical.chain((segs) => benign(segs)),
        fc.nat(),
        broken,
        (spelling, at, piece) => {
          const i = at % (spelling.length + 1);
          // Inserted right after a `%`, the piece would change that escape, not add a new one.
          const path = spelling.slice(0, i) + piece + spelling.slice(i);
          expect(canonicalPath(path).problem, path).toBeDefined();
        },
      ),
      { numRuns: 2_000 },
    );
  });
});
