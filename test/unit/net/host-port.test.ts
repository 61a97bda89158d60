import { describe, expect, it } from 'vitest';
import { listenTarget } from '../../../src/net/address.js';
import { formatHostPort, parseHostPort } from '../../../src/net/host-port.js';

const TABLE: [string, { host: string; port: number } | undefined][] = [
  ['127.0.0.1:9191', { host: '127.0.0.1', port: 9191 }],
  ['localhost:0', { host: 'localhost', port: 0 }],
  ['[::1]:8443', { host: '::1', port: 8443 }],
  ['[::]:50051', { host: '::', port: 50051 }],
  ['spicedb.authz.svc:50051', { host: 'spicedb.authz.svc', port: 50051 }],
  ['::1:8443', undefined], // IPv6 without brackets is ambiguous
  ['host', undefined],
  ['host:', undefined],
  [':9191', undefined],
  ['host:123456', undefined],
  ['host:80/path', undefined],
  ['user@host:80', undefined],
];

describe('parseHostPort: the one host:port parser', () => {
  it.each(TABLE)('%s', (text, expected) => {
    expect(parseHostPort(text)).toEqual(expected);
  });

  it('is what listenTarget uses, next to unix sockets', () => {
    expect(listenTarget('[::1]:0')).toEqual({ host: '::1', port: 0 });
    expect(listenTarget('unix:/run/x.sock')).toEqual({ path: '/run/x.sock' });
    expect(() => listenTarget('nope')).toThrow(/not host:port/);
  });
});

describe('formatHostPort: its inverse', () => {
  it.each([
    ['127.0.0.1', 9191, '127.0.0.1:9191'],
    ['::1', 8443, '[::1]:8443'],
    ['spicedb.authz.svc', 50051, 'spicedb.authz.svc:50051'],
  ])('%s and %i give %s, which parses back', (host, port, text) => {
    expect(formatHostPort(host, port)).toBe(text);
    expect(parseHostPort(text)).toEqual({ host, port });
  });
});
