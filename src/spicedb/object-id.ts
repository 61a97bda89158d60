/**
 * SpiceDB object-id encoding: any string → an id SpiceDB accepts, reversibly and without collisions.
 *
 * SpiceDB ids must match `^[a-zA-Z0-9/_|\-=+]{1,1024}$` (or be the wildcard `*`), so ids such as
 * `cloud-teleport-aleksander.rykalin`, emails or URIs are refused with INVALID_ARGUMENT. The rule:
 *
 *   1. Take the UTF-8 bytes of the id.
 *   2. Keep every byte that is one of `A-Z a-z 0-9 / _ | - +` as that character.
 *   3. Write every other byte — including `=` itself — as `=` followed by two UPPER-CASE hex digits.
 *
 *   cloud-teleport-aleksander.rykalin → cloud-teleport-aleksander=2Erykalin
 *   a@b.c → a=40b=2Ec        * → =2A        a=2Eb → a=3D2Eb        алекс → =D0=B0=D0=BB…
 *
 * Why this is safe:
 * - Injective: `=` only ever starts an escape, so decoding is unambiguous and every string has
 *   exactly one encoding. A valid id that looks encoded (`a=2Eb`) gets its `=` escaped and cannot
 *   collide with the encoding of `a.b`.
 * - Valid ids without `=` are unchanged, so existing relationships need no migration.
 * - `*` is never passed through, so caller input can never become a wildcard.
 * - The output never contains `:`, `#` or `@`, the separators of `type:id#relation@type:id`.
 * - Growth is at most 3× per byte: raw ids up to 341 bytes always fit 1024; longer ones may not and
 *   are refused here (TooLong) before SpiceDB is asked.
 * - Strings that are not well-formed Unicode (lone UTF-16 surrogates) have no UTF-8 form and are
 *   refused rather than silently replaced (replacement would make two inputs collide).
 *
 * This file is self-contained on purpose (no imports, standard TextEncoder/TextDecoder only):
 * services that write relationships may copy it verbatim so they produce the very same ids.
 */

/** SpiceDB's maximum object id length, in bytes. */
export const MAX_OBJECT_ID_BYTES = 1024;

export type ObjectIdProblem = 'empty' | 'too_long' | 'not_unicode' | 'malformed';

export class ObjectIdError extends Error {
  constructor(
    readonly problem: ObjectIdProblem,
    message: string,
  ) {
    super(message);
    this.name = 'ObjectIdError';
  }
}

const HEX = '0123456789ABCDEF';
const LONE_SURROGATE = /\p{Cs}/u;

function isKept(byte: number): boolean {
  return (
    (byte >= 0x30 && byte <= 0x39) || // 0-9
    (byte >= 0x41 && byte <= 0x5a) || // A-Z
    (byte >= 0x61 && byte <= 0x7a) || // a-z
    byte === 0x2f || // /
    byte === 0x5f || // _
    byte === 0x7c || // |
    byte === 0x2d || // -
    byte === 0x2b // +
  );
}

/**
 * Encodes any non-empty, well-formed string as a valid SpiceDB object id.
 * Throws ObjectIdError when the input is empty, not well-formed Unicode, or too long once encoded.
 */
export function encodeObjectId(raw: string): string {
  if (raw.length === 0) throw new ObjectIdError('empty', 'object id is empty');
  if (LONE_SURROGATE.test(raw)) {
    throw new ObjectIdError('not_unicode', 'object id is not well-formed Unicode');
  }
  let out = '';
  for (const byte of new TextEncoder().encode(raw)) {
    out += isKept(byte) ? String.fromCharCode(byte) : '=' + HEX[byte >> 4]! + HEX[byte & 0x0f]!;
  }
  if (out.length > MAX_OBJECT_ID_BYTES) {
    throw new ObjectIdError(
      'too_long',
      `object id is ${out.length} bytes once encoded; SpiceDB accepts at most ${MAX_OBJECT_ID_BYTES}`,
    );
  }
  return out;
}

/**
 * The inverse of encodeObjectId. Only canonical encodings are accepted: anything encodeObjectId
 * could not have produced (lower-case hex, an escaped kept character, a bare `=`, invalid UTF-8)
 * throws ObjectIdError('malformed'), so decode(x) succeeds exactly when x = encode(decode(x)).
 */
export function decodeObjectId(encoded: string): string {
  if (encoded.length === 0) throw new ObjectIdError('empty', 'object id is empty');
  const bytes: number[] = [];
  for (let i = 0; i < encoded.length; i++) {
    const code = encoded.charCodeAt(i);
    if (code === 0x3d /* = */) {
      const hi = hexValue(encoded[i + 1]);
      const lo = hexValue(encoded[i + 2]);
      const byte = hi * 16 + lo;
      if (hi < 0 || lo < 0 || isKept(byte)) throw malformed(i);
      bytes.push(byte);
      i += 2;
    } else if (isKept(code)) {
      bytes.push(code);
    } else {
      throw malformed(i);
    }
  }
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(new Uint8Array(bytes));
  } catch {
    throw new ObjectIdError('malformed', 'encoded object id does not decode to UTF-8');
  }
}

/** 0–15 for an upper-case hex digit, -1 for anything else (including a missing character). */
function hexValue(c: string | undefined): number {
  return c !== undefined && c.length === 1 ? HEX.indexOf(c) : -1;
}

function malformed(at: number): ObjectIdError {
  return new ObjectIdError('malformed', `not a canonical encoded object id (offset ${at})`);
}
