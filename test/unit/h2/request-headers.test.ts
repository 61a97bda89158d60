import { describe, expect, it } from 'vitest';
import { requestHeaders, validTrailers } from '../../../src/h2/request-headers.js';

const BASE = [':method', 'POST', ':scheme', 'http', ':path', '/a.B/C'];

describe('requestHeaders', () => {
  it('maps names to values, joining repeated ones', () => {
    const h = requestHeaders([...BASE, 'x-a', '1', 'x-a', '2', 'content-type', 'application/grpc']);
    expect({ ...h }).toEqual({
      ':method': 'POST',
      ':scheme': 'http',
      ':path': '/a.B/C',
      'x-a': '1, 2',
      'content-type': 'application/grpc',
    });
  });

  it('keeps a header named __proto__ as a plain header', () => {
    const h = requestHeaders([...BASE, '__proto__', 'x'])!;
    expect(h['__proto__']).toBe('x');
    expect(h['constructor']).toBeUndefined();
  });

  it.each([
    ['an upper-case name', [...BASE, 'X-A', '1']],
    ['a name with a space', [...BASE, 'x a', '1']],
    ['an empty name', [...BASE, '', '1']],
    ['a value with CR LF', [...BASE, 'x-a', 'a\r\nb']],
    ['a value with NUL', [...BASE, 'x-a', 'a\0b']],
    ['a pseudo-header after a regular one', ['x-a', '1', ...BASE]],
    ['an unknown pseudo-header', [...BASE, ':status', '200']],
    ['a repeated pseudo-header', [...BASE, ':path', '/b']],
    ['no :path', [':method', 'POST', ':scheme', 'http']],
    ['an empty :path', [':method', 'POST', ':scheme', 'http', ':path', '']],
    ['no :method', [':scheme', 'http', ':path', '/']],
    ['no :scheme', [':method', 'POST', ':path', '/']],
    ['a connection header', [...BASE, 'connection', 'close']],
    ['transfer-encoding', [...BASE, 'transfer-encoding', 'chunked']],
    ['te other than trailers', [...BASE, 'te', 'gzip']],
    ['a content-length that is not a number', [...BASE, 'content-length', '1e3']],
    ['two content-lengths', [...BASE, 'content-length', '1', 'content-length', '1']],
  ])('is malformed with %s', (_what, fields) => {
    expect(requestHeaders(fields)).toBeUndefined();
  });

  it('accepts te: trailers and a numeric content-length', () => {
    expect(requestHeaders([...BASE, 'te', 'trailers', 'content-length', '12'])).toBeDefined();
  });
});

describe('validTrailers', () => {
  it('refuses pseudo-headers and bad names, accepts plain fields', () => {
    expect(validTrailers(['x-a', '1'])).toBe(true);
    expect(validTrailers([':path', '/'])).toBe(false);
    expect(validTrailers(['X-A', '1'])).toBe(false);
  });
});
