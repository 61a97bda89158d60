import type { Server } from 'node:net';

/** Parses the listen addresses of the config: host:port, [v6]:port or unix:/path. */
export function listenTarget(address: string): { host: string; port: number } | { path: string } {
  if (address.startsWith('unix:')) return { path: address.slice('unix:'.length) };
  const i = address.lastIndexOf(':');
  const host = address.slice(0, i).replace(/^\[|\]$/g, '');
  return { host, port: Number(address.slice(i + 1)) };
}

/** Listens on a config address (TCP or unix socket); resolves with the bound port (0 for unix). */
export function listenOn(server: Server, address: string): Promise<number> {
  const target = listenTarget(address);
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    const done = () => {
      server.off('error', reject);
      const a = server.address();
      resolve(typeof a === 'object' && a ? a.port : 0);
    };
    if ('path' in target) server.listen(target.path, done);
    else server.listen(target.port, target.host, done);
  });
}
