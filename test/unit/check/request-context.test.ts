import { describe, expect, it } from 'vitest';
import { CONTEXT_EXTENSIONS, toRequestContext } from '../../../src/check/request-context.js';
import { syntheticCheckRequest } from '../../../src/envoy/client.js';
import type { CheckRequest } from '../../../src/envoy/types.js';
import { JwtxError } from '../../../src/errors.js';

const ctx = (input: Parameters<typeof syntheticCheckRequest>[0]) =>
  toRequestContext(syntheticCheckRequest(input));

describe('toRequestContext', () => {
  it.each([
    ['no direction extension', {}, 'inbound'],
    ['inbound', { [CONTEXT_EXTENSIONS.direction]: 'inbound' }, 'inbound'],
    ['outbound', { [CONTEXT_EXTENSIONS.direction]: 'outbound' }, 'outbound'],
  ])('direction: %s', (_name, extensions, direction) => {
    expect(ctx({ extensions }).direction).toBe(direction);
  });

  it.each(['Inbound', 'both', '', 'outbound '])('refuses direction %j as bad_request', (value) => {
    try {
      ctx({ extensions: { [CONTEXT_EXTENSIONS.direction]: value } });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(JwtxError);
      expect((err as JwtxError).code).toBe('bad_request');
    }
  });

  it.each([
    ['no content-type', undefined, false],
    ['application/grpc', 'application/grpc', true],
    ['application/grpc+proto', 'application/grpc+proto', true],
    ['application/json', 'application/json', false],
    ['text/plain mentioning grpc', 'text/plain; x=application/grpc', false],
  ])('gRPC detection: %s', (_name, contentType, isGrpc) => {
    const headers: Record<string, string> = contentType ? { 'content-type': contentType } : {};
    expect(ctx({ headers }).isGrpc).toBe(isGrpc);
  });

  it.each([
    ['/v2/namespaces', '/v2/namespaces'],
    ['/v2/namespaces?token=secret&x=1', '/v2/namespaces'],
    ['/?', '/'],
    ['/a/b?c?d', '/a/b'],
  ])('path %s without the query is %s', (path, expected) => {
    expect(ctx({ path }).path).toBe(expected);
  });

  it('copies method, host, headers, extensions, request id and peer principal', () => {
    const req = syntheticCheckRequest({
      method: 'POST',
      host: 'gw.internal',
      headers: { 'x-request-id': 'r-1', authorization: 'Bearer t' },
      extensions: { [CONTEXT_EXTENSIONS.exempt]: 'true' },
    });
    req.attributes!.source = { principal: 'spiffe://cluster/ns/gw/sa/gateway' };
    const c = toRequestContext(req);
    expect(c).toMatchObject({
      method: 'POST',
      host: 'gw.internal',
      requestId: 'r-1',
      peerPrincipal: 'spiffe://cluster/ns/gw/sa/gateway',
      extensions: { [CONTEXT_EXTENSIONS.exempt]: 'true' },
    });
    expect(c.headers.authorization).toBe('Bearer t');
  });

  it('falls back to pseudo-headers and defaults when attributes are sparse', () => {
    const req: CheckRequest = {
      attributes: {
        request: { http: { headers: { ':path': '/p?q', ':method': 'PUT', ':authority': 'h' } } },
      },
    };
    expect(toRequestContext(req)).toMatchObject({
      path: '/p',
      method: 'PUT',
      host: 'h',
      direction: 'inbound',
      extensions: {},
      requestId: undefined,
      peerPrincipal: undefined,
    });
    expect(toRequestContext({ attributes: { request: { http: {} } } })).toMatchObject({
      path: '/',
      method: 'GET',
      host: '',
      headers: {},
    });
  });

  it.each([
    ['an empty request', {}],
    ['no request attributes', { attributes: {} }],
    ['no HTTP attributes', { attributes: { request: {} } }],
  ])('refuses %s as bad_request', (_name, req) => {
    expect(() => toRequestContext(req as CheckRequest)).toThrow(
      expect.objectContaining({ code: 'bad_request' }),
    );
  });

  it('is pure: the same request gives the same context and is not modified', () => {
    const req = syntheticCheckRequest({ path: '/a?b', headers: { 'x-a': '1' } });
    const before = JSON.stringify(req);
    expect(toRequestContext(req)).toEqual(toRequestContext(req));
    expect(JSON.stringify(req)).toBe(before);
  });
});
