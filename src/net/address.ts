import type { Server, Socket } from 'node:net';
import { formatHostPort, parseHostPort } from './host-port.js';

/** Parses the listen addresses of the config: host:port, [v6]:port or unix:/path. */
export function listenTarget(address: string): { host: string; port: number } | { path: string } {
  if (address.startsWith('unix:')) return { path: address.slice('unix:'.length) };
  const target = parseHostPort(address);
  if (!target)
    throw new Error(`${JSON.stringify(address)} is not host:port, [ipv6]:port or unix:/path`);
  return target;
}

/**
 * Listens on a config address (TCP or unix socket); resolves with the bound port (0 for unix).
 * `setting` names where the address came from, for the ListenError a failed bind rejects with.
 */
export function listenOn(
  server: Server,
  address: string,
  setting = 'the listen address',
): Promise<number> {
  const target = listenTarget(address);
  return new Promise((resolve, reject) => {
    const fail = (err: unknown) => reject(asListenError(err, setting, address) as Error);
    server.once('error', fail);
    const done = () => {
      server.off('error', fail);
      const a = server.address();
      resolve(typeof a === 'object' && a ? a.port : 0);
    };
    if ('path' in target) server.listen(target.path, done);
    else server.listen(target.port, target.host, done);
  });
}

/** Who is at the other end of an accepted socket, for a log line (`unix` on a unix socket). */
export function peerAddress(socket: Socket): string {
  const host = socket.remoteAddress;
  return host === undefined ? 'unix' : formatHostPort(host, socket.remotePort ?? 0);
}

/** The address a listener really bound: the configured one with port 0 replaced. */
export function boundAddress(configured: string, port: number): string {
  if (configured.startsWith('unix:')) return configured;
  return `${configured.slice(0, configured.lastIndexOf(':'))}:${port}`;
}

const LISTEN_HINTS: Record<string, (setting: string, portZero: boolean) => string> = {
  EADDRINUSE: (s, portZero) =>
    `the address is already in use: stop the process listening there, or set ${s} to a free port${portZero ? ' (port 0 picks one)' : ''}`,
  EACCES: (s) => `permission denied: ports below 1024 need privileges; choose another port in ${s}`,
  EADDRNOTAVAIL: (s) => `no network interface of this host has that address: fix ${s}`,
};

/** A listener that could not bind: which address, which setting gave it, what to do. */
export class ListenError extends Error {
  /** `portZero`: whether the setting accepts port 0 (any free port), which the hint suggests. */
  constructor(
    readonly setting: string,
    readonly address: string,
    readonly code: string,
    portZero = true,
  ) {
    super(`cannot listen on ${address} (${setting}): ${LISTEN_HINTS[code]!(setting, portZero)}`);
    this.name = 'ListenError';
  }
}

/**
 * A ListenError for a bind failure (node's errno, or grpc-js's "listen EADDRINUSE" text);
 * any other error is returned unchanged.
 */
export function asListenError(err: unknown, setting: string, address: string): unknown {
  if (err instanceof ListenError) return err;
  const errno = (err as NodeJS.ErrnoException | undefined)?.code;
  const code =
    errno && errno in LISTEN_HINTS
      ? errno
      : /\b(EADDRINUSE|EACCES|EADDRNOTAVAIL)\b/.exec(String((err as Error)?.message))?.[1];
  return code ? new ListenError(setting, address, code) : err;
}
