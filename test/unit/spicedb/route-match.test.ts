import { describe, expect, it } from 'vitest';
import { compileGrpcMatch, compileHttpMatch, splitPath } from '../../../src/spicedb/route-match.js';

const seg = (p: string) => splitPath(p)!;

describe('splitPath', () => {
  it('drops empty segments and percent-decodes the rest', () => {
    expect(splitPath('/v2/namespaces/cl0')).toEqual(['v2', 'namespaces', 'cl0']);
    expect(splitPath('//v2//namespaces/')).toEqual(['v2', 'namespaces']);
    expect(splitPath('/v2/%6Eamespaces/a%2Fb')).toEqual(['v2', 'namespaces', 'a/b']);
  });

  it('refuses dot segments and bad percent-encoding', () => {
    expect(splitPath('/v2/../admin')).toBeUndefined();
    expect(splitPath('/v2/%2e%2E/admin')).toBeUndefined();
    expect(splitPath('/./x')).toBeUndefined();
    expect(splitPath('/v2/%E0%A4%A')).toBeUndefined();
  });
});

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
