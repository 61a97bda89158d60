import type { Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import {
  asListenError,
  boundAddress,
  ListenError,
  listenTarget,
  peerAddress,
} from '../../../src/net/address.js';

describe('listenTarget', () => {
  it.each([
    ['127.0.0.1:9191', { host: '127.0.0.1', port: 9191 }],
    ['0.0.0.0:0', { host: '0.0.0.0', port: 0 }],
    ['unix:/run/jwtx.sock', { path: '/run/jwtx.sock' }],
  ])('reads %s', (address, target) => {
    expect(listenTarget(address)).toEqual(target);
  });

  it('reads a bracketed IPv6 address', () => {
    expect(listenTarget('[::1]:8443')).toMatchObject({ port: 8443 });
  });

  it.each(['9191', 'localhost', ':', 'host:port'])('refuses %o, naming the forms', (address) => {
    expect(() => listenTarget(address)).toThrow(
      `${JSON.stringify(address)} is not host:port, [ipv6]:port or unix:/path`,
    );
  });
});

describe('peerAddress', () => {
  const socket = (remoteAddress?: string, remotePort?: number) =>
    ({ remoteAddress, remotePort }) as Socket;

  it.each([
    [socket('127.0.0.1', 40312), '127.0.0.1:40312'],
    [socket('::1', 40312), '[::1]:40312'],
    [socket('::ffff:10.0.0.7', 5), '[::ffff:10.0.0.7]:5'],
    [socket(), 'unix'],
  ])('names the peer of %o as %s', (s, name) => {
    expect(peerAddress(s)).toBe(name);
  });
});

describe('boundAddress', () => {
  it.each([
    ['127.0.0.1:0', 40123, '127.0.0.1:40123'],
    ['[::1]:0', 40123, '[::1]:40123'],
    ['127.0.0.1:9191', 9191, '127.0.0.1:9191'],
    ['unix:/run/jwtx.sock', 0, 'unix:/run/jwtx.sock'],
  ])('%s bound on %i is %s', (configured, port, bound) => {
    expect(boundAddress(configured, port)).toBe(bound);
  });
});

describe('asListenError', () => {
  const errno = (code: string) => Object.assign(new Error(`listen ${code}`), { code });

  it.each([
    [
      errno('EADDRINUSE'),
      'EADDRINUSE',
      /already in use: .* set server\.grpcAddress to a free port \(port 0 picks one\)$/,
    ],
    [
      errno('EACCES'),
      'EACCES',
      /ports below 1024 need privileges; choose another port in server\.grpcAddress$/,
    ],
    [errno('EADDRNOTAVAIL'), 'EADDRNOTAVAIL', /no network interface .*: fix server\.grpcAddress$/],
    [
      new Error('No address added out of total 1 resolved: listen EADDRINUSE'),
      'EADDRINUSE',
      /already in use/,
    ],
  ])('turns %s into a ListenError that names the setting', (err, code, hint) => {
    const listen = asListenError(err, 'server.grpcAddress', '127.0.0.1:9191');
    expect(listen).toBeInstanceOf(ListenError);
    expect((listen as ListenError).code).toBe(code);
    expect((listen as ListenError).message).toMatch(
      /^cannot listen on 127\.0\.0\.1:9191 \(server\.grpcAddress\): /,
    );
    expect((listen as ListenError).message).toMatch(hint);
  });

  it('returns any other error unchanged', () => {
    for (const err of [errno('ECONNRESET'), new Error('boom'), undefined, 'text']) {
      expect(asListenError(err, 's', 'a')).toBe(err);
    }
  });

  it('keeps a ListenError as it is', () => {
    const err = new ListenError('s', 'a', 'EACCES');
    expect(asListenError(err, 'other', 'b')).toBe(err);
  });

  it('leaves out the port 0 hint where the setting cannot take it', () => {
    expect(new ListenError('s', 'a', 'EADDRINUSE', false).message).not.toContain('port 0');
  });
});
