/**
 * The one path canonicalisation every authorization rule is matched against (HTTP and gRPC
 * paths alike; docs/authorization.md "Paths", docs/security.md). A path is either turned into
 * its canonical segments or refused, never guessed at:
 *
 *   canonical form: split on `/`, drop empty segments (`//a/` is `/a`), percent-decode each
 *   segment as UTF-8 (`%6E` is `n`, `%C3%A9` is `é`).
 *
 *   refused (the check denies with `bad_request`), because upstream routers disagree on them
 *   and a rule must not be dodged by a spelling the app reads differently:
 *   - `encoded_slash`      `%2F` or `%5C` in any case: a `/` or `\` some routers decode into a
 *                          separator and others keep inside a segment
 *   - `backslash`          a raw `\`, a separator for some servers
 *   - `parameter`          a `;` raw or decoded (`/a;x=1/b`, `a%3Bb`): matrix parameters are
 *                          dropped by Servlet and Spring routers
 *   - `dot_segment`        `.` or `..`, raw or encoded (`%2e%2E`)
 *   - `bad_encoding`       `%` not followed by two hex digits, or bytes that are not UTF-8
 *   - `control_character`  a decoded byte below 0x20 or 0x7F (NUL truncates C strings)
 *   - `double_encoding`    a decoded segment that still holds `%XX` (`%252F`): a router that
 *                          decodes twice would see a different path
 *
 * With the listener settings the sidecar expects (normalize_path, merge_slashes,
 * path_with_escaped_slashes_action: REJECT_REQUEST) Envoy has already rejected encoded slashes,
 * turned `\` into `/` and resolved dot segments before the check; the rest is refused here.
 * Linear in the path length: one pass per segment, no regular expression.
 */

export type PathProblem =
  | 'encoded_slash'
  | 'backslash'
  | 'parameter'
  | 'dot_segment'
  | 'bad_encoding'
  | 'control_character'
  | 'double_encoding';

export type CanonicalPath =
  | { readonly segments: readonly string[]; readonly problem?: undefined }
  | { readonly segments?: undefined; readonly problem: PathProblem };

const hex = (c: number): number =>
  c >= 0x30 && c <= 0x39
    ? c - 0x30
    : c >= 0x41 && c <= 0x46
      ? c - 0x37
      : c >= 0x61 && c <= 0x66
        ? c - 0x57
        : -1;

/** Problems visible in the raw segment: escapes, `\`, `;`. */
function rawProblem(raw: string): PathProblem | undefined {
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if (c === 0x5c) return 'backslash';
    if (c === 0x3b) return 'parameter';
    if (c !== 0x25) continue;
    const hi = hex(raw.charCodeAt(i + 1));
    const lo = hex(raw.charCodeAt(i + 2));
    if (hi < 0 || lo < 0) return 'bad_encoding';
    const byte = hi * 16 + lo;
    if (byte === 0x2f || byte === 0x5c) return 'encoded_slash';
    i += 2;
  }
  return undefined;
}

/** Problems visible only once decoded: dot segments, `;`, control characters, `%XX` again. */
function decodedProblem(segment: string): PathProblem | undefined {
  if (segment === '.' || segment === '..') return 'dot_segment';
  for (let i = 0; i < segment.length; i++) {
    const c = segment.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return 'control_character';
    if (c === 0x3b) return 'parameter';
    if (c === 0x25 && hex(segment.charCodeAt(i + 1)) >= 0 && hex(segment.charCodeAt(i + 2)) >= 0) {
      return 'double_encoding';
    }
  }
  return undefined;
}

/** The canonical segments of a request path (no query string), or why it is refused. */
export function canonicalPath(path: string): CanonicalPath {
  const segments: string[] = [];
  for (const raw of path.split('/')) {
    if (raw === '') continue;
    const early = rawProblem(raw);
    if (early) return { problem: early };
    let segment: string;
    try {
      segment = decodeURIComponent(raw);
    } catch {
      return { problem: 'bad_encoding' };
    }
    const late = decodedProblem(segment);
    if (late) return { problem: late };
    segments.push(segment);
  }
  return { segments };
}
