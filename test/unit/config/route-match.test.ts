import { describe, expect, it } from 'vitest';
import { canonicalPath } from '../../../src/check/inbound/canonical-path.js';
import { compileGrpcMatch, compileHttpMatch } from '../../../src/config/route-match.js';

const seg = (p: string) => canonicalPath(p).segments!;

describe('compileHttpMatch', () => {
  const m = compileHttpMatch('POST /v2/namespaces/{cluster}');

  it('matches method and template, returning parameters', () => {
    expect(m.params).toEqual(['cluster']);
    expect(m.match('POST', seg('/v2/namespaces/cl0'))).toEqual({ cluster: 'cl0' });
    expect(m.match('POST', seg('/v2//namespaces/cl%2E0/'))).toEqual({ cluster: 'cl.0' });
  });

  it('does not match another method, a shorter or longer path, or another literal', () => {
    expect(m.match('GET', seg('/v2/namespaces/cl0'))).toBeUndefined();
    expect(m.match('POST', seg('/v2/namespaces'))).toBeUndefined();
    expect(m.match('POST', seg('/v2/namespaces/cl0/extra'))).toBeUndefined();
    expect(m.match('POST', seg('/v3/namespaces/cl0'))).toBeUndefined();
  });

  it('accepts * for any method', () => {
    expect(compileHttpMatch('* /healthz').match('DELETE', seg('/healthz'))).toEqual({});
  });

  it.each([
    ['/v2/x', /METHOD \/path/],
    ['post /v2/x', /METHOD \/path/],
    ['POST v2/x', /METHOD \/path/],
    ['POST /v2/{a}/{a}', /twice/],
    ['POST /v2/pre{a}', /whole \{name\}/],
    ['POST /v2/%6Eamespaces', /decoded/],
    ['POST /v2/namespaces;v=1', /decoded/],
    ['POST /v2/a\\b', /decoded/],
    ['POST /v2/../admin', /decoded/],
  ])('rejects %j', (spec, message) => {
    expect(() => compileHttpMatch(spec)).toThrow(message);
  });
});

describe('compileGrpcMatch', () => {
  it('matches one method or every method of a service', () => {
    const one = compileGrpcMatch('gateway.v2.NamespaceService/CreateNamespace');
    const all = compileGrpcMatch('gateway.v2.NamespaceService/*');
    const path = seg('/gateway.v2.NamespaceService/CreateNamespace');
    expect(one.match('POST', path)).toEqual({});
    expect(all.match('POST', path)).toEqual({});
    expect(one.match('POST', seg('/gateway.v2.NamespaceService/DeleteNamespace'))).toBeUndefined();
    expect(all.match('POST', seg('/gateway.v2.Other/CreateNamespace'))).toBeUndefined();
  });

  it('rejects specs that are not service/method', () => {
    expect(() => compileGrpcMatch('/pkg.Svc/Method')).toThrow(/package.Service\/Method/);
    expect(() => compileGrpcMatch('pkg.Svc')).toThrow();
  });
});
