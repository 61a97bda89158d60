/**
 * The encoding of claim values in identity headers (`x-jwtauth-subject`, `x-jwtauth-issuer`):
 * unambiguous and reversible, so what the app reads is exactly the claim, and two different
 * claims never arrive as the same header.
 *
 *   1. Take the UTF-8 bytes of the value.
 *   2. Keep each byte that is one of  A-Z a-z 0-9 - . _ ~ ! $ & ' ( ) * + = : @ /
 *   3. Write every other byte — space, `%` itself, `,` `;` `"` `\`, control characters, anything
 *      non-ASCII — as `%` and two UPPER-CASE hex digits.
 *
 *   cloud-teleport-aleksander.rykalin → cloud-teleport-aleksander.rykalin (unchanged)
 *   spiffe://cluster.local/ns/a/sa/gw → unchanged      alice@example.com → unchanged
 *   " admin" → %20admin     "admin " → admin%20     "50%" → 50%25     алекс → %D0%B0%D0%BB…
 *
 * Why: HTTP parsers trim the whitespace around a header value (so `" admin"` would reach the app
 * as `admin`), may split values on `,`, and cannot carry control characters or raw non-ASCII.
 * Escaping `%` makes the encoding injective, and every output is printable ASCII with no leading
 * or trailing space, which every HTTP hop passes through unchanged. `decodeURIComponent` reads it.
 * Strings that are not well-formed Unicode (lone UTF-16 surrogates) have no UTF-8 form: they are
 * refused rather than replaced, since replacement would make two claims collide.
 *
 * Self-contained on purpose (no imports): apps may copy it to decode the headers.
 */

export class HeaderValueError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HeaderValueError';
  }
}

const HEX = '0123456789ABCDEF';
const LONE_SURROGATE = /\p{Cs}/u;

/** Bytes (ASCII) that travel as themselves; every other byte is percent-encoded. */
const KEPT = new Uint8Array(128);
for (const c of "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-._~!$&'()*+=:@/") {
  KEPT[c.charCodeAt(0)] = 1;
}

function isKept(byte: number): boolean {
  return byte < 0x80 && KEPT[byte] === 1;
}

const ENCODER = new TextEncoder();

/** Encodes a claim value for an identity header; throws HeaderValueError on lone surrogates. */
export function encodeHeaderValue(value: string): string {
  // Most values (subjects, issuers, kinds) need no escape at all: then the value is its encoding.
  let i = 0;
  while (i < value.length && isKept(value.charCodeAt(i))) i++;
  if (i === value.length) return value;
  if (LONE_SURROGATE.test(value)) {
    throw new HeaderValueError('value is not well-formed Unicode');
  }
  let out = value.slice(0, i);
  for (const byte of ENCODER.encode(value.slice(i))) {
    out += isKept(byte) ? String.fromCharCode(byte) : '%' + HEX[byte >> 4]! + HEX[byte & 0x0f]!;
  }
  return out;
}

/**
 * The inverse of encodeHeaderValue. Only canonical encodings are accepted (upper-case hex, no
 * escaped kept byte, nothing outside the kept set, UTF-8), so decode(x) succeeds exactly when
 * x = encode(decode(x)); anything else throws HeaderValueError.
 */
export function decodeHeaderValue(encoded: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < encoded.length; i++) {
    const code = encoded.charCodeAt(i);
    if (code === 0x25 /* % */) {
      const hi = HEX.indexOf(encoded[i + 1] ?? 'x');
      const lo = HEX.indexOf(encoded[i + 2] ?? 'x');
      if (hi < 0 || lo < 0 || isKept(hi * 16 + lo)) throw malformed(i);
      bytes.push(hi * 16 + lo);
      i += 2;
    } else if (code < 0x80 && isKept(code)) {
      bytes.push(code);
    } else {
      throw malformed(i);
    }
  }
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(new Uint8Array(bytes));
  } catch {
    throw new HeaderValueError('encoded header value does not decode to UTF-8');
  }
}

function malformed(at: number): HeaderValueError {
  return new HeaderValueError(`not a canonical encoded header value (offset ${at})`);
}
