/**
 * A request's decoded header list as the name → value map the server reads, or undefined when it
 * is malformed (RFC 9113 §8.2, §8.3): then the stream is reset with PROTOCOL_ERROR. Names are
 * already lower case on the wire in HTTP/2; an upper-case one is malformed, not folded.
 */
export type RequestHeaders = Readonly<Record<string, string>>;

const REQUEST_PSEUDO = new Set([':method', ':scheme', ':path', ':authority']);
const CONNECTION_SPECIFIC = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
]);

// RFC 9110 tchar, lower case only.
const NAME_CHAR = new Uint8Array(256);
for (const c of "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyz")
  NAME_CHAR[c.charCodeAt(0)] = 1;

function validName(name: string, from: number): boolean {
  if (name.length <= from) return false;
  for (let i = from; i < name.length; i++) if (NAME_CHAR[name.charCodeAt(i)] !== 1) return false;
  return true;
}

/** NUL, CR and LF are never allowed in a field value (RFC 9113 §8.2.1). */
function validValue(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === 0 || c === 10 || c === 13) return false;
  }
  return true;
}

/** fields: [name, value, name, value, …] as HPACK decoded them. */
export function requestHeaders(fields: readonly string[]): RequestHeaders | undefined {
  // No prototype: a header named __proto__ or constructor is just a header.
  const headers: Record<string, string> = Object.create(null) as Record<string, string>;
  let regularSeen = false;
  for (let i = 0; i < fields.length; i += 2) {
    const name = fields[i]!;
    const value = fields[i + 1]!;
    if (!validValue(value)) return undefined;
    if (name.charCodeAt(0) === 58 /* : */) {
      if (regularSeen || !REQUEST_PSEUDO.has(name) || name in headers) return undefined;
      headers[name] = value;
      continue;
    }
    regularSeen = true;
    if (!validName(name, 0) || CONNECTION_SPECIFIC.has(name)) return undefined;
    if (name === 'te' && value !== 'trailers') return undefined;
    const before = headers[name];
    headers[name] = before === undefined ? value : `${before}, ${value}`;
  }
  const path = headers[':path'];
  if (headers[':method'] === undefined || headers[':scheme'] === undefined) return undefined;
  if (path === undefined || path === '') return undefined;
  const length = headers['content-length'];
  if (length !== undefined && !/^\d{1,15}$/.test(length)) return undefined;
  return headers;
}

/** Trailers carry no pseudo-header fields (RFC 9113 §8.1). */
export function validTrailers(fields: readonly string[]): boolean {
  for (let i = 0; i < fields.length; i += 2) {
    if (!validName(fields[i]!, 0) || !validValue(fields[i + 1]!)) return false;
  }
  return true;
}
