import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { toRequestContext } from '../../../src/check/request-context.js';
import {
  fromHttpAuthorizationRequest,
  parseRouteSettings,
  ROUTE_HEADER,
  type HttpAuthorizationRequest,
} from '../../../src/envoy/http-check-request.js';
import { JwtxError } from '../../../src/errors.js';

const request = (
  rawHeaders: string[],
  method: string | undefined = 'GET',
  url: string | undefined = '/',
): HttpAuthorizationRequest => ({ method, url, rawHeaders });

const httpOf = (req: HttpAuthorizationRequest) =>
  fromHttpAuthorizationRequest(req).attributes!.request!.http!;
const headersOf = (rawHeaders: string[]) => httpOf(request(rawHeaders)).headers!;
const extensionsOf = (rawHeaders: string[]) =>
  fromHttpAuthorizationRequest(request(rawHeaders)).attributes!.context_extensions!;

/** The JwtxError reason a call throws with; undefined when it does not throw. */
function refusal(f: () => unknown): string | undefined {
  try {
    f();
  } catch (err) {
    expect(err).toBeInstanceOf(JwtxError);
    return (err as JwtxError).code;
  }
  return undefined;
}

describe('fromHttpAuthorizationRequest: headers', () => {
  it.each<[string, string[], Record<string, string>]>([
    ['one header', ['Authorization', 'Bearer a.b.c'], { authorization: 'Bearer a.b.c' }],
    [
      'names folded to lower case',
      ['X-Saga-ID', 's-1', 'CONTENT-TYPE', 'application/grpc'],
      { 'x-saga-id': 's-1', 'content-type': 'application/grpc' },
    ],
    [
      'a repeated header joined with "," in arrival order, whatever the case of each copy',
      ['X-Forwarded-For', '10.0.0.1', 'x-forwarded-for', '10.0.0.2', 'X-FORWARDED-FOR', ''],
      { 'x-forwarded-for': '10.0.0.1,10.0.0.2,' },
    ],
    [
      'two authorization headers both kept (Node would keep only the first)',
      ['authorization', 'Bearer first', 'authorization', 'Bearer second'],
      { authorization: 'Bearer first,Bearer second' },
    ],
    ['Host as :authority', ['Host', 'gateway:8080'], { ':authority': 'gateway:8080' }],
    ['an empty value kept', ['x-empty', ''], { 'x-empty': '' }],
    [
      'a value kept byte for byte (no trimming, no decoding)',
      ['x-raw', ' a%2Fb\tc '],
      { 'x-raw': ' a%2Fb\tc ' },
    ],
  ])('%s', (_name, raw, expected) => {
    const headers = headersOf(raw);
    for (const [k, v] of Object.entries(expected)) expect(headers[k]).toBe(v);
    // Nothing else besides the pseudo-headers the request line gives.
    expect(Object.keys(headers).sort()).toEqual(
      [...Object.keys(expected), ':method', ':path'].sort(),
    );
  });

  it('puts the host in http.host and keeps the route header out of the headers', () => {
    const http = httpOf(request(['Host', 'vmcontroller', ROUTE_HEADER, 'jwtexchange.exempt=true']));
    expect(http.host).toBe('vmcontroller');
    expect(http.headers![ROUTE_HEADER]).toBeUndefined();
    expect(http.headers!.host).toBeUndefined();
  });

  it('gives an empty host without a Host header', () => {
    expect(httpOf(request([])).host).toBe('');
  });

  it('ignores a dangling name without a value (an odd-length list)', () => {
    expect(headersOf(['a', '1', 'b'])).toEqual({ a: '1', ':method': 'GET', ':path': '/' });
  });

  // Header names arrive folded to lower case: these are the Object.prototype names they can take.
  it.each(['__proto__', 'constructor'])('treats a header named %s as a plain header', (name) => {
    const headers = headersOf([name, 'x', name, 'y']);
    // Inherits nothing (a fast-mode map, src/envoy/string-map.ts).
    for (const inherited of ['toString', 'hasOwnProperty', 'valueOf']) {
      expect(inherited in headers).toBe(false);
    }
    expect(Object.hasOwn(headers, name)).toBe(true);
    expect(headers[name]).toBe('x,y');
    expect(({} as Record<string, unknown>).x).toBeUndefined();
    // The phases read the headers like any others.
    expect(toRequestContext(fromHttpAuthorizationRequest(request([name, 'x']))).headers[name]).toBe(
      'x',
    );
  });
});

describe('fromHttpAuthorizationRequest: request line', () => {
  it.each<[string, string | undefined, string | undefined, string, string]>([
    ['method and path as sent', 'POST', '/v2/namespaces', 'POST', '/v2/namespaces'],
    ['the query kept in the path', 'GET', '/v1/x?a=1&b=%2F', 'GET', '/v1/x?a=1&b=%2F'],
    ['the path not decoded or normalized', 'GET', '/a/../b%2Fc//d', 'GET', '/a/../b%2Fc//d'],
    ['a missing method defaults to GET', undefined, '/x', 'GET', '/x'],
    ['a missing url defaults to /', 'DELETE', undefined, 'DELETE', '/'],
  ])('%s', (_name, method, url, wantMethod, wantPath) => {
    const http = httpOf({ method, url, rawHeaders: [] });
    expect(http.method).toBe(wantMethod);
    expect(http.path).toBe(wantPath);
    expect(http.headers![':method']).toBe(wantMethod);
    expect(http.headers![':path']).toBe(wantPath);
  });

  it('overrides a :method or :path header with the request line', () => {
    const http = httpOf(request([':path', '/spoofed', ':method', 'HEAD'], 'POST', '/real'));
    expect(http.headers![':path']).toBe('/real');
    expect(http.headers![':method']).toBe('POST');
  });

  it('leads to a context whose path has no query (the rules match the path alone)', () => {
    const ctx = toRequestContext(
      fromHttpAuthorizationRequest(
        request(['Host', 'gw', ROUTE_HEADER, 'jwtexchange.direction=outbound'], 'PUT', '/a?b=c'),
      ),
    );
    expect(ctx).toMatchObject({ method: 'PUT', path: '/a', host: 'gw', direction: 'outbound' });
  });
});

describe('route settings (x-jwtexchange-route)', () => {
  it.each<[string, string | undefined, Record<string, string>]>([
    ['absent', undefined, {}],
    ['empty', '', {}],
    ['one key', 'jwtexchange.exempt=true', { 'jwtexchange.exempt': 'true' }],
    [
      'several keys',
      'jwtexchange.direction=outbound&jwtexchange.audience=vmcontroller&jwtexchange.delegation=saga',
      {
        'jwtexchange.direction': 'outbound',
        'jwtexchange.audience': 'vmcontroller',
        'jwtexchange.delegation': 'saga',
      },
    ],
    [
      '%-escapes and "+" decoded as form encoding',
      'jwtexchange.scope=vm%3Aread+vm%3Awrite&k%20ey=a%26b%3Dc',
      { 'jwtexchange.scope': 'vm:read vm:write', 'k ey': 'a&b=c' },
    ],
    ['an invalid escape kept as written', 'a=%zz%', { a: '%zz%' }],
    ['a key without a value is empty', 'jwtexchange.exempt', { 'jwtexchange.exempt': '' }],
    ['empty pairs skipped', '&&a=1&', { a: '1' }],
    ['non-ASCII in UTF-8 escapes', 'a=%C3%BC', { a: 'ü' }],
  ])('%s', (_name, value, expected) => {
    const out = parseRouteSettings(value);
    expect({ ...out }).toEqual(expected);
    if (value !== undefined) expect({ ...extensionsOf([ROUTE_HEADER, value]) }).toEqual(expected);
  });

  it.each([
    'jwtexchange.exempt=true&jwtexchange.exempt=false',
    'a=1&a=1',
    'a=1&%61=2',
    'jwtexchange.direction=inbound&jwtexchange.direction=outbound',
  ])('refuses a repeated key (%s) rather than guess between them', (value) => {
    expect(refusal(() => parseRouteSettings(value))).toBe('bad_request');
  });

  it.each([
    [ROUTE_HEADER, 'a=1', ROUTE_HEADER, 'a=1'],
    ['X-JwtExchange-Route', 'a=1', 'x-jwtexchange-route', 'b=2'],
    [ROUTE_HEADER, '', ROUTE_HEADER, ''],
  ])('refuses a repeated route header (%s … %s)', (...raw) => {
    expect(refusal(() => fromHttpAuthorizationRequest(request(raw)))).toBe('bad_request');
  });

  it('parses a value once and hands out the same frozen settings (no caller can change them)', () => {
    const value = 'jwtexchange.direction=outbound&jwtexchange.audience=cache-test';
    const first = parseRouteSettings(value);
    expect(parseRouteSettings(value)).toBe(first);
    expect(Object.isFrozen(first)).toBe(true);
    expect(() => {
      (first as Record<string, string>)['jwtexchange.audience'] = 'other';
    }).toThrow(TypeError);
    expect(parseRouteSettings(value)['jwtexchange.audience']).toBe('cache-test');
    expect(Object.isFrozen(parseRouteSettings(''))).toBe(true);
  });

  it('refuses a repeated key every time (a refusal is never remembered as settings)', () => {
    const value = 'cache.k=1&cache.k=2';
    expect(refusal(() => parseRouteSettings(value))).toBe('bad_request');
    expect(refusal(() => parseRouteSettings(value))).toBe('bad_request');
  });

  it('still parses every value right once more distinct values came than it keeps', () => {
    for (let i = 0; i < 600; i++) {
      expect({ ...parseRouteSettings(`bound.n=${i}`) }).toEqual({ 'bound.n': String(i) });
    }
    expect(parseRouteSettings('bound.n=599')['bound.n']).toBe('599');
  });

  it('reads the route header whatever its case', () => {
    expect({ ...extensionsOf(['X-JWTEXCHANGE-ROUTE', 'jwtexchange.exempt=true']) }).toEqual({
      'jwtexchange.exempt': 'true',
    });
  });

  it.each(['__proto__', 'constructor', 'hasOwnProperty'])(
    'treats a key named %s as a plain key',
    (key) => {
      const out = parseRouteSettings(`${key}=x&jwtexchange.exempt=true`);
      for (const inherited of ['toString', 'hasOwnProperty', 'valueOf']) {
        if (inherited !== key) expect(inherited in out).toBe(false);
      }
      expect(Object.hasOwn(out, key)).toBe(true);
      expect(out[key]).toBe('x');
      expect(out['jwtexchange.exempt']).toBe('true');
      expect(refusal(() => parseRouteSettings(`${key}=x&${key}=y`))).toBe('bad_request');
      expect(({} as Record<string, unknown>).x).toBeUndefined();
    },
  );
});

describe('fromHttpAuthorizationRequest on any header list', () => {
  const name = fc.oneof(
    fc.constantFrom(
      'Host',
      'authorization',
      ROUTE_HEADER,
      'X-Saga-Id',
      '__proto__',
      'content-type',
    ),
    fc.string({ minLength: 1, maxLength: 8 }),
  );
  const value = fc.oneof(
    fc.constantFrom('', 'a=1', 'a=1&a=2', 'jwtexchange.exempt=true'),
    fc.string(),
  );

  it('either converts (every header kept, joined in order) or refuses with bad_request', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(name, value), { maxLength: 12 }), (pairs) => {
        const raw = pairs.flat();
        const routeCopies = pairs.filter(([n]) => n.toLowerCase() === ROUTE_HEADER);
        let converted;
        try {
          converted = fromHttpAuthorizationRequest(request(raw, 'GET', '/p'));
        } catch (err) {
          expect(err).toBeInstanceOf(JwtxError);
          expect((err as JwtxError).code).toBe('bad_request');
          return;
        }
        expect(routeCopies.length).toBeLessThanOrEqual(1);
        const expected = new Map<string, string[]>();
        for (const [n, v] of pairs) {
          let key = n.toLowerCase();
          if (key === ROUTE_HEADER) continue;
          if (key === 'host') key = ':authority';
          expected.set(key, [...(expected.get(key) ?? []), v]);
        }
        expected.set(':method', ['GET']);
        expected.set(':path', ['/p']);
        const headers = converted.attributes!.request!.http!.headers!;
        expect(Object.keys(headers).sort()).toEqual([...expected.keys()].sort());
        for (const [k, vs] of expected) expect(headers[k]).toBe(vs.join(','));
      }),
    );
  });
});
