/**
 * What a log line may hold (docs/security.md): text is cut to a bounded length first, then
 * anything shaped like a JWT, a PEM block or URL credentials is taken out. Every function here
 * runs in time linear in its input, whatever the input: each scanner only moves forward, so a
 * hostile string (a 48 KB path of `eyJeyJ…`) costs no more than a benign one of the same size.
 * No regular expression is used on purpose: a regex engine's worst case is not this file's.
 */

/** Longest string a log field keeps; longer ones are cut before anything else looks at them. */
export const MAX_LOGGED_CHARS = 2048;

/** `text` cut to `max` characters, with a marker saying how much was dropped. */
export function bounded(text: string, max = MAX_LOGGED_CHARS): string {
  return text.length <= max ? text : `${text.slice(0, max)}…[+${text.length - max} chars]`;
}

const isB64Url = (c: number): boolean =>
  (c >= 0x30 && c <= 0x39) || // 0-9
  (c >= 0x41 && c <= 0x5a) || // A-Z
  (c >= 0x61 && c <= 0x7a) || // a-z
  c === 0x2d || // -
  c === 0x5f; // _

const isPemLabel = (c: number): boolean => (c >= 0x41 && c <= 0x5a) || c === 0x20;

/** End of the run of characters satisfying `ok` that starts at `from`. */
function runEnd(text: string, from: number, ok: (c: number) => boolean): number {
  let i = from;
  while (i < text.length && ok(text.charCodeAt(i))) i++;
  return i;
}

type Scanner = (text: string, at: number) => { end: number; replacement: string } | number;

/**
 * Applies a scanner at every occurrence of `marker`. The scanner returns the replaced span, or
 * the index to resume searching from when nothing matched there; both are past `at`, so the
 * whole text is read once.
 */
function replaceEach(text: string, marker: string, scan: Scanner): string {
  let out = '';
  let copied = 0;
  let pos = 0;
  for (;;) {
    const at = text.indexOf(marker, pos);
    if (at === -1) break;
    const r = scan(text, at);
    if (typeof r === 'number') {
      pos = Math.max(r, at + 1);
      continue;
    }
    out += text.slice(copied, at) + r.replacement;
    copied = pos = r.end;
  }
  return copied === 0 ? text : out + text.slice(copied);
}

/**
 * A compact JWS/JWE-looking token: `eyJ` + at least two base64url characters, a dot, then up to
 * two more dot-separated base64url parts. When a position fails, no later `eyJ` inside the same
 * base64url run can succeed (it would end at the same place), so the search resumes after it.
 */
const jwt: Scanner = (text, at) => {
  const headerEnd = runEnd(text, at + 3, isB64Url);
  if (headerEnd - (at + 3) < 2 || text[headerEnd] !== '.') return headerEnd;
  let end = runEnd(text, headerEnd + 1, isB64Url);
  if (text[end] === '.') end = runEnd(text, end + 1, isB64Url);
  return { end, replacement: '[token]' };
};

/** `-----BEGIN LABEL-----` through the next `-----END LABEL-----`, or to the end if cut short. */
const pem: Scanner = (text, at) => {
  const labelEnd = runEnd(text, at + 11, isPemLabel);
  if (labelEnd === at + 11 || !text.startsWith('-----', labelEnd)) return labelEnd;
  let from = labelEnd + 5;
  for (;;) {
    const endAt = text.indexOf('-----END ', from);
    if (endAt === -1) return { end: text.length, replacement: '[pem]' };
    const endLabel = runEnd(text, endAt + 9, isPemLabel);
    if (endLabel > endAt + 9 && text.startsWith('-----', endLabel)) {
      return { end: endLabel + 5, replacement: '[pem]' };
    }
    from = endLabel;
  }
};

/** Characters that end a URL inside free text. */
const endsUrl = (c: number): boolean =>
  c <= 0x20 || c === 0x22 || c === 0x27 || c === 0x3c || c === 0x3e || c === 0x60 || c === 0x7f;

/**
 * A URL after `://`: its userinfo (`user:password@`) and its query and fragment are dropped, so
 * only origin and path remain.
 */
const urlCredentials: Scanner = (text, at) => {
  const start = at + 3;
  let i = start;
  let userinfoEnd = -1;
  // The authority ends at the first /, ? or #; an @ inside it ends the userinfo.
  for (; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (endsUrl(c) || c === 0x2f || c === 0x3f || c === 0x23) break;
    if (c === 0x40) userinfoEnd = i + 1;
  }
  const pathStart = i;
  while (i < text.length && !endsUrl(text.charCodeAt(i)) && text[i] !== '?' && text[i] !== '#') i++;
  const pathEnd = i;
  while (i < text.length && !endsUrl(text.charCodeAt(i))) i++;
  if (userinfoEnd === -1 && pathEnd === i) return i;
  const host = text.slice(userinfoEnd === -1 ? start : userinfoEnd, pathStart);
  return { end: i, replacement: `://${host}${text.slice(pathStart, pathEnd)}` };
};

/**
 * Takes out JWT-shaped tokens (`[token]`), PEM blocks (`[pem]`), URL userinfo and URL query
 * strings. A last line of defence: code must not log secrets in the first place.
 */
export function scrub(value: string): string {
  return replaceEach(
    replaceEach(replaceEach(value, 'eyJ', jwt), '-----BEGIN ', pem),
    '://',
    urlCredentials,
  );
}

/** A URL as logs may show it: origin and path, without userinfo, query or fragment. */
export function originAndPath(url: string | URL): string {
  try {
    const u = typeof url === 'string' ? new URL(url) : url;
    return `${u.origin}${u.pathname}`;
  } catch {
    return '(invalid URL)';
  }
}
